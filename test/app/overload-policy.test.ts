/**
 * The overload policy in the real hand-off and the real priority-key set: priority keys first while
 * overloaded, arrival order otherwise, per-key order always, deferred checks counted exactly, nothing lost.
 */
import { describe, expect, it } from "vitest";
import { KeyedHandoff } from "../../app/detector/keyed-handoff.ts";
import { OffsetTracker } from "../../app/detector/offset-tracker.ts";
import {
  overloadedNow,
  overloadEndShare,
  RecentAnomalies,
  recentAnomalyMaxKeys,
  recentAnomalyWindowMs,
} from "../../app/detector/overload-policy.ts";
import { Rng } from "../../app/loadgen/random.ts";

interface Item {
  key: string;
  offset: number;
}

/** A hand-off whose checks finish when the test says so; `priority` is the set of priority keys now. */
function harness(concurrency: number) {
  const starts: string[] = [];
  const release = new Map<number, () => void>();
  const deferredItems: string[] = [];
  const tracker = new OffsetTracker();
  const priority = new Set<string>();
  const handoff = new KeyedHandoff<Item>({
    concurrency,
    capacity: 100_000,
    keyOf: (i) => i.key,
    isPriority: (key) => priority.has(key),
    process: (i) =>
      new Promise<void>((resolve) => {
        starts.push(`${i.key}@${i.offset}`);
        release.set(i.offset, resolve);
      }),
    onDone: (i) => tracker.finish(i.offset),
    onDeferred: (i) => deferredItems.push(`${i.key}@${i.offset}`),
  });
  let next = 0;
  const push = (...keys: string[]) => {
    for (const key of keys) {
      tracker.track(next);
      handoff.push({ key, offset: next++ });
    }
  };
  const finish = async (offset: number) => {
    const r = release.get(offset);
    if (!r) throw new Error(`${offset} is not running`);
    release.delete(offset);
    r();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { starts, handoff, tracker, priority, push, finish, deferredItems, running: () => [...release.keys()] };
}

describe("overload policy in the hand-off", () => {
  it("starts priority keys first while overloaded and counts exactly the checks they overtook", async () => {
    const h = harness(1);
    h.priority.add("p").add("q");
    h.handoff.overloaded = true;
    h.push("a"); // 0: starts at once, nothing to overtake it
    h.push("b", "p", "c", "q"); // 1 b, 2 p, 3 c, 4 q: ready in this order
    expect(h.starts).toEqual(["a@0"]);
    for (const o of [0, 2, 4, 1]) await h.finish(o);
    // p and q first; b and c became ready before q (and b before p) and start after it: 2 deferred.
    expect(h.starts).toEqual(["a@0", "p@2", "q@4", "b@1", "c@3"]);
    expect(h.handoff.deferred).toBe(2);
    expect(h.deferredItems).toEqual(["b@1", "c@3"]);

    // Not overloaded: the order keys became ready in, whichever line they wait in; nothing more deferred.
    h.handoff.overloaded = false;
    h.push("d", "p", "e"); // 5 d, 6 p, 7 e
    await h.finish(3);
    expect(h.starts.slice(5)).toEqual(["d@5"]);
    await h.finish(5);
    await h.finish(6);
    await h.finish(7);
    expect(h.starts.slice(5)).toEqual(["d@5", "p@6", "e@7"]);
    expect(h.handoff.deferred).toBe(2);

    // Overloaded again, but no priority key waiting: a normal check is not deferred by the policy alone.
    h.handoff.overloaded = true;
    h.push("f");
    await h.finish(8);
    expect(h.handoff.deferred).toBe(2);
    expect(h.tracker.committable).toBe(9); // every offset finished: nothing lost
    expect(h.handoff.size).toBe(0);
  });

  it("keeps per-key order when a key becomes a priority key with items waiting", async () => {
    const h = harness(1);
    h.handoff.overloaded = true;
    h.push("x", "y", "x", "x"); // 0 x runs; y@1 ready; x@2, x@3 wait behind x@0
    h.priority.add("x"); // x is flagged by its check 0
    await h.finish(0); // x@2 becomes ready as a priority key, after y@1, and overtakes it
    expect(h.starts).toEqual(["x@0", "x@2"]);
    await h.finish(2);
    expect(h.starts).toEqual(["x@0", "x@2", "x@3"]);
    await h.finish(3);
    await h.finish(1);
    expect(h.starts).toEqual(["x@0", "x@2", "x@3", "y@1"]);
    expect(h.handoff.deferred).toBe(1);
  });

  it("without isPriority, behaves as the plain hand-off (arrival order, nothing deferred)", async () => {
    const starts: number[] = [];
    const release: (() => void)[] = [];
    const handoff = new KeyedHandoff<Item>({
      concurrency: 1,
      capacity: 10,
      keyOf: (i) => i.key,
      process: (i) =>
        new Promise<void>((resolve) => {
          starts.push(i.offset);
          release.push(resolve);
        }),
    });
    handoff.overloaded = true;
    for (let o = 0; o < 4; o++) handoff.push({ key: `k${o}`, offset: o });
    for (let o = 0; o < 4; o++) {
      release[o]!();
      await new Promise((r) => setImmediate(r));
    }
    expect(starts).toEqual([0, 1, 2, 3]);
    expect(handoff.deferred).toBe(0);
  });

  it("on random work: every item runs once in per-key order, and the deferred count matches the definition", async () => {
    let deferredOverSeeds = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Rng(seed);
      const h = harness(3);
      const keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6"];
      /** Per item: its key, when it became ready (a harness step) and whether its key was a priority key then. */
      const ready = new Map<number, { key: string; at: number; priority: boolean }>();
      const queued = new Map<string, number[]>(); // per key: offsets pushed and not finished, in order
      let step = 0;
      let pushed = 0;
      const markReady = (offset: number, key: string) => ready.set(offset, { key, at: step, priority: h.priority.has(key) });
      for (let op = 0; op < 400 || h.running().length > 0; op++) {
        step++;
        const r = rng.next();
        const running = h.running();
        if (op < 400 && (r < 0.45 || running.length === 0)) {
          const key = keys[rng.int(keys.length)]!;
          const q = queued.get(key) ?? [];
          queued.set(key, q);
          q.push(pushed);
          if (q.length === 1) markReady(pushed, key);
          pushed++;
          h.push(key);
        } else if (op < 400 && r < 0.5) {
          h.handoff.overloaded = !h.handoff.overloaded;
        } else if (op < 400 && r < 0.55) {
          const key = keys[rng.int(keys.length)]!;
          if (h.priority.has(key)) h.priority.delete(key);
          else h.priority.add(key);
        } else {
          const offset = running[rng.int(running.length)]!;
          const key = ready.get(offset)!.key;
          const q = queued.get(key)!;
          expect(q[0]).toBe(offset); // only a key's oldest unfinished item can be running
          q.shift();
          if (q.length > 0) markReady(q[0]!, key);
          await h.finish(offset);
        }
      }
      // Nothing lost, nothing twice, each key in push order.
      expect(h.starts).toHaveLength(pushed);
      expect(new Set(h.starts).size).toBe(pushed);
      expect(h.tracker.committable).toBe(pushed);
      for (const key of keys) {
        const offsets = h.starts.filter((s) => s.startsWith(`${key}@`)).map((s) => Number(s.split("@")[1]));
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
      // Deferred: a normal item with a priority item that became ready after it and started before it.
      const order = h.starts.map((s) => Number(s.split("@")[1]));
      const expected = order.filter((offset, i) => {
        const mine = ready.get(offset)!;
        return !mine.priority && order.slice(0, i).some((o) => ready.get(o)!.priority && ready.get(o)!.at > mine.at);
      });
      expect(
        h.deferredItems.map((s) => Number(s.split("@")[1])),
        `seed ${seed}`,
      ).toEqual(expected);
      expect(h.handoff.deferred).toBe(expected.length);
      deferredOverSeeds += expected.length;
    }
    expect(deferredOverSeeds).toBeGreaterThan(0); // the draws did exercise the policy
  });
});

describe("overload state", () => {
  it("starts past the bound, ends below 0.8 of it, and is never on with an empty hand-off", () => {
    expect(overloadedNow(false, 5000, 5000, 10)).toBe(false);
    expect(overloadedNow(false, 5001, 5000, 10)).toBe(true);
    expect(overloadedNow(true, 4500, 5000, 10)).toBe(true); // between 0.8 × bound and the bound: stays on
    expect(overloadedNow(true, overloadEndShare * 5000 - 1, 5000, 10)).toBe(false);
    expect(overloadedNow(false, 60_000, 5000, 0)).toBe(false);
    expect(overloadedNow(true, 60_000, 5000, 0)).toBe(false);
  });
});

describe("RecentAnomalies (the priority keys)", () => {
  it("holds a flagged key for the window, then forgets it", () => {
    const clock = { t: 0 };
    const r = new RecentAnomalies({ now: () => clock.t });
    r.flag("a");
    clock.t = recentAnomalyWindowMs;
    expect(r.has("a")).toBe(true);
    expect(r.has("b")).toBe(false);
    clock.t = recentAnomalyWindowMs + 1;
    expect(r.has("a")).toBe(false);
    expect(r.size).toBe(0);
  });

  it("is bounded: past maxKeys the oldest flag goes, and a key flagged again counts as new", () => {
    const clock = { t: 0 };
    const r = new RecentAnomalies({ maxKeys: 3, now: () => clock.t });
    for (const k of ["a", "b", "c"]) {
      r.flag(k);
      clock.t++;
    }
    r.flag("a"); // a is now the newest
    clock.t++;
    r.flag("d"); // evicts b, the oldest
    expect(r.size).toBe(3);
    expect(["a", "b", "c", "d"].filter((k) => r.has(k))).toEqual(["a", "c", "d"]);
    const big = new RecentAnomalies();
    for (let i = 0; i < recentAnomalyMaxKeys + 10; i++) big.flag(`k${i}`);
    expect(big.size).toBe(recentAnomalyMaxKeys);
    expect(big.has("k0")).toBe(false);
    expect(big.has(`k${recentAnomalyMaxKeys + 9}`)).toBe(true);
  });

  it("prunes expired flags from the oldest on", () => {
    const clock = { t: 0 };
    const r = new RecentAnomalies({ windowMs: 100, now: () => clock.t });
    r.flag("a");
    clock.t = 50;
    r.flag("b");
    clock.t = 120;
    expect(r.prune()).toBe(1);
    expect(r.has("b")).toBe(true);
    clock.t = 151;
    expect(r.prune()).toBe(0);
  });
});
