import { describe, expect, it } from "vitest";
import { AdaptiveLimit, adaptiveLimitDefaults, fixedLimit } from "../../app/detector/concurrency-limit.ts";

/**
 * A server with a throughput capacity (checks/s) and a no-load latency: by Little's law a saturated server's
 * latency is in-flight / capacity. The limiter sees one window of samples a simulated second.
 */
function simulate(limit: AdaptiveLimit, clock: { t: number }, seconds: number, server: (inFlight: number) => { latencyMs: number }, demand = Infinity) {
  const limits: number[] = [];
  for (let s = 0; s < seconds; s++) {
    const inFlight = Math.min(limit.limit, demand);
    const { latencyMs } = server(inFlight);
    for (let i = 0; i < adaptiveLimitDefaults.minSamples; i++) limit.sample(latencyMs, inFlight);
    clock.t += adaptiveLimitDefaults.windowMs;
    limit.sample(latencyMs, inFlight);
    limits.push(limit.limit);
  }
  return limits;
}

const server = (capacityPerSecond: number, baseMs: number) => (inFlight: number) => ({
  latencyMs: Math.max(baseMs, (inFlight / capacityPerSecond) * 1000),
});

function adaptive(initial: number, changes?: number[]) {
  const clock = { t: 0 };
  const limit = new AdaptiveLimit({
    ...adaptiveLimitDefaults,
    initial,
    max: 4096,
    latencyTargetMs: 100,
    now: () => clock.t,
    onChange: (l) => changes?.push(l),
  });
  return { limit, clock };
}

describe("adaptive concurrency limit", () => {
  it("grows from a small start on a server with room, and settles where the latency meets its target", () => {
    const changes: number[] = [];
    const { limit, clock } = adaptive(16, changes);
    const limits = simulate(limit, clock, 600, server(2000, 5));
    // 2,000 checks/s at 100 ms is 200 in flight (Little's law).
    const settled = limits.slice(-60);
    expect(Math.min(...settled)).toBeGreaterThan(150);
    expect(Math.max(...settled)).toBeLessThan(260);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.at(-1)).toBe(limit.limit);
  });

  it("slow start: from 16 it doubles each window until the latency passes its target, then the gradient rule settles it", () => {
    const { limit, clock } = adaptive(16);
    const limits = simulate(limit, clock, 120, server(2000, 5));
    // 2,000 checks/s at 100 ms is 200 in flight: doubling passes it once (256 → 128 ms), then it comes down.
    expect(limits.slice(0, 4)).toEqual([32, 64, 128, 256]);
    expect(Math.max(...limits)).toBeLessThanOrEqual(256);
    expect(Math.min(...limits.slice(-30))).toBeGreaterThan(150);
    expect(Math.max(...limits.slice(-30))).toBeLessThan(260);
  });

  it("shrinks from a start far too high, where checks only queue", () => {
    const { limit, clock } = adaptive(4096);
    const limits = simulate(limit, clock, 300, server(2000, 5));
    expect(limits.at(-1)).toBeLessThan(260);
  });

  it("follows the server's capacity down and up again (a Cassandra that loses, then regains, a core)", () => {
    const { limit, clock } = adaptive(64);
    const high = simulate(limit, clock, 400, server(4000, 5)).at(-1)!;
    const low = simulate(limit, clock, 400, server(1000, 5)).at(-1)!;
    const again = simulate(limit, clock, 400, server(4000, 5)).at(-1)!;
    expect(low).toBeLessThan(high / 2);
    expect(again).toBeGreaterThan(high * 0.75);
  });

  it("does not grow a limit the traffic does not use", () => {
    const { limit, clock } = adaptive(64);
    const limits = simulate(limit, clock, 120, server(2000, 5), 10);
    expect(limits.at(-1)).toBe(64);
  });

  it("keeps within its bounds and ignores samples that are no durations", () => {
    const clock = { t: 0 };
    const limit = new AdaptiveLimit({ ...adaptiveLimitDefaults, initial: 8, min: 8, max: 32, latencyTargetMs: 100, now: () => clock.t });
    const up = simulate(limit, clock, 200, () => ({ latencyMs: 1 }));
    expect(Math.max(...up)).toBe(32);
    const down = simulate(limit, clock, 200, () => ({ latencyMs: 10_000 }));
    expect(Math.min(...down)).toBe(8);
    limit.sample(Number.NaN, 8);
    limit.sample(-1, 8);
    expect(limit.longLatencyMs).toBeGreaterThan(0);
  });

  it("refuses bounds that cannot hold, naming them", () => {
    expect(() => new AdaptiveLimit({ ...adaptiveLimitDefaults, initial: 2, max: 10, latencyTargetMs: 100 })).toThrow(/min \(4\) <= initial \(2\)/);
    expect(() => new AdaptiveLimit({ ...adaptiveLimitDefaults, initial: 64, max: 10, latencyTargetMs: 100 })).toThrow(/initial \(64\) <= max \(10\)/);
  });

  it("fixed mode is the number it was given", () => {
    const f = fixedLimit(64);
    f.sample(10_000, 64);
    expect(f.limit).toBe(64);
  });
});
