import { describe, expect, test } from "vitest";
import { encodeElectLeaders, decodeElectLeaders } from "../../app/kafka/elect-leaders.ts";
import { checkLeaderBalance, leaderImbalanceLimit } from "../../app/kafka/leader-balance.ts";
import { balancedPlacement, changedPlacements, perBroker, type PartitionPlacement } from "../../app/kafka/replica-placement.ts";

const counts = (o: Record<number, number>) => new Map(Object.entries(o).map(([b, n]) => [Number(b), n]));
const spread = (m: Map<number, number>) => Math.max(...m.values()) - Math.min(...m.values());

describe("leader balance check", () => {
  test(`fails above ${leaderImbalanceLimit}x, naming the most- and least-loaded brokers`, () => {
    // The stage 24: 48 partitions, the 3 first brokers lead ~12, the 3 new ones ~4.
    const r = checkLeaderBalance("events", counts({ 1: 12, 2: 12, 3: 12, 4: 4, 5: 4, 6: 4 }));
    expect(r.balanced).toBe(false);
    expect(r.most).toEqual({ broker: 1, leaders: 12 });
    expect(r.least).toEqual({ broker: 4, leaders: 4 });
    expect(r.ratio).toBe(3);
    expect(r.problem).toBe("topic events: broker 1 leads 12 partitions, 3.00x broker 4's 4; allowed: at most 1.5x");
  });

  test("passes at exactly the limit and below it", () => {
    expect(checkLeaderBalance("events", counts({ 1: 6, 2: 4, 3: 5 })).balanced).toBe(true);
    expect(checkLeaderBalance("events", counts({ 1: 7, 2: 4, 3: 5 })).balanced).toBe(false);
    expect(checkLeaderBalance("events", counts({ 1: 4, 2: 4 })).problem).toBeUndefined();
  });

  test("a broker that leads nothing fails, and is named", () => {
    const r = checkLeaderBalance("events", counts({ 1: 3, 2: 3, 3: 0, 4: 0 }));
    expect(r.ratio).toBeNull();
    expect(r.problem).toBe(
      "topic events: brokers 3, 4 lead no partition while broker 1 leads 3; allowed: the most-loaded broker leads at most 1.5x the least",
    );
  });

  test("bad input is refused with the field and what is allowed", () => {
    expect(() => checkLeaderBalance("events", new Map())).toThrow(
      "topic events: no brokers given; allowed: every broker of the cluster with its leader count",
    );
    expect(() => checkLeaderBalance("events", counts({ 1: 1 }), 0.5)).toThrow("leader imbalance limit 0.5: allowed: a number >= 1");
  });
});

/** A topic as growth leaves it: `old` partitions placed round-robin on the first brokers, `added` over all. */
function grown(topic: string, old: number, added: number, firstBrokers: number, allBrokers: number, rf: number): PartitionPlacement[] {
  const place = (p: number, n: number) => Array.from({ length: rf }, (_, k) => ((p + k) % n) + 1);
  return [
    ...Array.from({ length: old }, (_, p) => ({ topic, partition: p, replicas: place(p, firstBrokers) })),
    ...Array.from({ length: added }, (_, i) => ({ topic, partition: old + i, replicas: place(old + i, allBrokers) })),
  ];
}

describe("balanced placement", () => {
  const brokers = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  // Stage 48 of the issue: 9 brokers (3 per generation), 99 partitions, RF 3.
  const current = [...grown("events", 48, 51, 6, 9, 3), ...grown("__consumer_offsets", 50, 0, 3, 9, 3)];
  const target = balancedPlacement(current, brokers);

  test("every broker leads and holds an even share of each topic", () => {
    for (const topic of ["events", "__consumer_offsets"]) {
      const of = target.filter((p) => p.topic === topic);
      expect(spread(perBroker(of, brokers, "leaders"))).toBeLessThanOrEqual(1);
      expect(spread(perBroker(of, brokers, "replicas"))).toBeLessThanOrEqual(1);
      expect(of.every((p) => new Set(p.replicas).size === 3 && p.leader === p.replicas[0])).toBe(true);
    }
    expect(
      checkLeaderBalance(
        "events",
        perBroker(
          target.filter((p) => p.topic === "events"),
          brokers,
          "leaders",
        ),
      ).balanced,
    ).toBe(true);
  });

  test("leader totals over topics stay even (the topics' extra leaders go to different brokers)", () => {
    expect(spread(perBroker(target, brokers, "leaders"))).toBeLessThanOrEqual(1);
  });

  test("replicas stay where their broker is within its share: fewer moves than a fresh placement", () => {
    const before = new Map(current.map((p) => [`${p.topic}/${p.partition}`, new Set(p.replicas)]));
    const kept = target.reduce((n, p) => n + p.replicas.filter((r) => before.get(`${p.topic}/${p.partition}`)!.has(r)).length, 0);
    const total = target.reduce((n, p) => n + p.replicas.length, 0);
    // 297 + 150 replicas; the new brokers' shares (a third of each topic) must arrive, the rest may stay.
    expect(kept).toBeGreaterThanOrEqual(Math.floor((total * 2) / 3) - brokers.length);
  });

  test("a balanced placement is left as it is", () => {
    expect(changedPlacements(target, balancedPlacement(target, brokers))).toEqual([]);
  });

  test("replicas on a broker that left are placed on the live ones", () => {
    const out = balancedPlacement([{ topic: "t", partition: 0, replicas: [7, 1, 2] }], [1, 2, 3]);
    expect([...out[0]!.replicas].sort()).toEqual([1, 2, 3]);
  });

  test("bad input names the partition and what is allowed", () => {
    expect(() => balancedPlacement([{ topic: "t", partition: 3, replicas: [1, 2, 3, 4] }], [1, 2, 3])).toThrow(
      "topic t partition 3: 4 replicas; allowed: at most 3, one per broker",
    );
    expect(() => balancedPlacement([], [1, 1])).toThrow("brokers: 1, 1; allowed: each id once");
  });
});

describe("ElectLeaders v1 wire format", () => {
  test("the request: preferred election, topics with their partitions, timeout", () => {
    const bytes = encodeElectLeaders(new Map([["ab", [1, 2]]]), 500);
    expect(bytes.toString("hex")).toBe(["00", "00000001", "0002", "6162", "00000002", "00000001", "00000002", "000001f4"].join(""));
  });

  test("the response: per-partition error codes and messages", () => {
    const hex = [
      "00000000",
      "0000",
      "00000001",
      "0002",
      "6162",
      "00000002",
      "00000001",
      "0000",
      "ffff",
      "00000002",
      "0054",
      "0002",
      "6e6f",
    ].join("");
    expect(decodeElectLeaders(Buffer.from(hex, "hex"))).toEqual({
      errorCode: 0,
      results: [
        { topic: "ab", partition: 1, errorCode: 0, errorMessage: null },
        { topic: "ab", partition: 2, errorCode: 84, errorMessage: "no" },
      ],
    });
  });
});
