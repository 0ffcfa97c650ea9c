/** waitFor: the one poll-until-deadline loop. Probes counted, not timed; the pause is injected. */
import { describe, expect, it } from "vitest";
import { waitFor, waitWhileMoving, WaitTimeoutError } from "../../app/retry.ts";

describe("waitFor", () => {
  it("returns the probe's first value that is neither undefined nor false, reporting each unmet probe", async () => {
    let calls = 0;
    const waits: number[] = [];
    const value = await waitFor(() => (++calls < 3 ? (calls === 1 ? undefined : false) : `ready at ${calls}`), {
      what: "x",
      timeoutMs: 60_000,
      sleep: () => Promise.resolve(),
      onWait: (ms) => waits.push(ms),
    });
    expect(value).toBe("ready at 3");
    expect(calls).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it("ends at once with the probe's own error (a process that exited)", async () => {
    let calls = 0;
    const probe = () => {
      calls++;
      throw new Error("detector exited");
    };
    await expect(waitFor(probe, { what: "x", timeoutMs: 60_000, sleep: () => Promise.resolve() })).rejects.toThrow("detector exited");
    expect(calls).toBe(1);
  });

  it("times out naming what it waited for and the detail", async () => {
    const err: unknown = await waitFor(() => false, {
      what: "the leaders of topic t",
      timeoutMs: 0,
      detail: () => "2 of 4 answered",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe("timed out after 0 s waiting for: the leaders of topic t (2 of 4 answered)");
  });

  it("stops when the injected pause throws (an abort)", async () => {
    const abort = new Error("interrupted");
    await expect(waitFor(() => false, { what: "x", timeoutMs: 60_000, sleep: () => Promise.reject(abort) })).rejects.toBe(abort);
  });
});

describe("waitWhileMoving", () => {
  // A clock the injected pause advances: one probe per simulated second.
  const clock = () => {
    let t = 0;
    return { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
  };

  it("returns the first count that meets the goal, however long a moving count takes", async () => {
    let n = 0;
    const count = await waitWhileMoving(() => (n += 10), {
      what: "the drain",
      until: (c) => c >= 1000,
      stallMs: 5_000,
      intervalMs: 1_000,
      ...clock(),
    });
    expect(count).toBe(1000);
  });

  it("throws once the count stood still for longer than the stall bound, naming what and where", async () => {
    const counts = [0, 5, 9, 9, 9, 9, 9];
    let i = 0;
    const err: unknown = await waitWhileMoving(() => counts[Math.min(i++, counts.length - 1)]!, {
      what: "sai drain",
      until: (c) => c >= 100,
      stallMs: 3_000,
      intervalMs: 1_000,
      ...clock(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toBe("sai drain: stalled at 9 for 3 s");
    expect(i).toBe(7);
  });
});
