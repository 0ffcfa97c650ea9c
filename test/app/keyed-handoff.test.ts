import { describe, expect, it } from "vitest";
import { KeyedHandoff } from "../../app/detector/keyed-handoff.ts";
import { OffsetTracker } from "../../app/detector/offset-tracker.ts";

interface Item {
  key: string;
  offset: number;
}

/** A controllable "check": each item's work completes when the test says so, recording the order of events. */
function harness(concurrency: number, capacity = 1000) {
  const log: string[] = [];
  const release = new Map<number, () => void>();
  const fail = new Map<number, (e: Error) => void>();
  const tracker = new OffsetTracker();
  let lowWaterCalls = 0;
  let fatal: unknown = null;
  const handoff = new KeyedHandoff<Item>({
    concurrency,
    capacity,
    keyOf: (i) => i.key,
    process: (i) =>
      new Promise<void>((resolve, reject) => {
        log.push(`start ${i.key}@${i.offset}`);
        release.set(i.offset, () => {
          log.push(`end ${i.key}@${i.offset}`);
          resolve();
        });
        fail.set(i.offset, reject);
      }),
    onDone: (i) => tracker.finish(i.offset),
    onBelowLowWater: () => lowWaterCalls++,
    onFatal: (e) => (fatal = e),
  });
  /** Items in the log's notation, "key@offset", pushed in the order given. */
  const push = (...items: string[]) => {
    for (const item of items) {
      const [key, offset] = item.split("@") as [string, string];
      tracker.track(Number(offset));
      handoff.push({ key, offset: Number(offset) });
    }
  };
  const finish = async (offset: number) => {
    release.get(offset)!();
    await new Promise((r) => setImmediate(r));
  };
  return { log, handoff, tracker, push, finish, fail, lowWater: () => lowWaterCalls, fatal: () => fatal };
}

const running = (log: string[]) => {
  const open = new Set<string>();
  for (const l of log) {
    const [what, item] = l.split(" ") as [string, string];
    if (what === "start") open.add(item);
    else open.delete(item);
  }
  return [...open];
};

describe("KeyedHandoff", () => {
  it("runs one item per key at a time, in order, and different keys in parallel", async () => {
    const h = harness(8);
    h.push("a@0", "a@1", "b@2", "a@3");
    expect(running(h.log).sort()).toEqual(["a@0", "b@2"]);
    await h.finish(2);
    expect(running(h.log)).toEqual(["a@0"]); // b has nothing more; a@1 must wait for a@0
    await h.finish(0);
    expect(running(h.log)).toEqual(["a@1"]);
    await h.finish(1);
    await h.finish(3);
    expect(h.log.filter((l) => l.includes("a@"))).toEqual(["start a@0", "end a@0", "start a@1", "end a@1", "start a@3", "end a@3"]);
    expect(h.handoff.size).toBe(0);
  });

  it("never exceeds the concurrency, and serves keys fairly", async () => {
    const h = harness(2);
    for (let i = 0; i < 6; i++) h.push(`${i < 4 ? "hot" : `k${i}`}@${i}`);
    expect(running(h.log).sort()).toEqual(["hot@0", "k4@4"]);
    await h.finish(0);
    // hot@1 and k5 were both ready; k5 became ready before hot went back in line
    expect(running(h.log).sort()).toEqual(["k4@4", "k5@5"]);
    await h.finish(4);
    expect(running(h.log).sort()).toEqual(["hot@1", "k5@5"]);
  });

  it("reports full at capacity and calls back at the low-water mark", async () => {
    const h = harness(1, 4);
    for (let i = 0; i < 4; i++) h.push(`a@${i}`);
    expect(h.handoff.full).toBe(true);
    await h.finish(0);
    expect(h.handoff.full).toBe(false);
    expect(h.lowWater()).toBe(0);
    await h.finish(1); // size 2 = capacity / 2
    expect(h.lowWater()).toBe(1);
  });

  it("idle() resolves when everything has finished", async () => {
    const h = harness(4);
    h.push("a@0", "b@1");
    let idle = false;
    void h.handoff.idle().then(() => (idle = true));
    await h.finish(0);
    expect(idle).toBe(false);
    await h.finish(1);
    expect(idle).toBe(true);
  });

  it("stops and reports when a check fails for good; nothing of that key runs after it", async () => {
    const h = harness(4);
    h.push("a@0", "a@1", "b@2");
    h.fail.get(0)!(new Error("cassandra is gone"));
    await new Promise((r) => setImmediate(r));
    expect(h.handoff.failed).toBe(true);
    expect((h.fatal() as Error).message).toBe("cassandra is gone");
    expect(h.log).not.toContain("start a@1");
    await h.finish(2);
    expect(h.tracker.committable).toBeNull(); // offset 0 never finished: nothing may be committed
  });
});

describe("commit rule (hand-off + offset tracker)", () => {
  it("commits only past offsets whose checks have finished, however they finish", async () => {
    const h = harness(8);
    h.push("a@10", "b@11", "c@12", "a@13");
    expect(h.tracker.committable).toBeNull();
    await h.finish(12);
    await h.finish(11);
    expect(h.tracker.committable).toBeNull(); // 10 still running
    await h.finish(10);
    expect(h.tracker.committable).toBe(13); // 13 (a, after 10) has only just started
    await h.finish(13);
    expect(h.tracker.committable).toBe(14);
  });
});

describe("OffsetTracker", () => {
  it("moves the commit point over contiguous finished offsets, across gaps in the log", () => {
    const t = new OffsetTracker();
    for (const o of [3, 4, 7, 8]) t.track(o);
    t.finish(4);
    t.finish(8);
    expect(t.committable).toBeNull();
    t.finish(3);
    expect(t.committable).toBe(5); // 5 and 6 do not exist; re-reading from 5 starts at 7
    t.finish(7);
    expect(t.committable).toBe(9);
    expect(t.unfinished).toBe(0);
  });
  it("refuses offsets out of order", () => {
    const t = new OffsetTracker();
    t.track(5);
    expect(() => t.track(5)).toThrow(RangeError);
  });
  it("keeps up with many records", () => {
    const t = new OffsetTracker();
    for (let o = 0; o < 100_000; o++) t.track(o);
    for (let o = 99_999; o >= 0; o -= 2) t.finish(o);
    expect(t.committable).toBeNull();
    for (let o = 0; o < 100_000; o += 2) t.finish(o);
    expect(t.committable).toBe(100_000);
  });
});
