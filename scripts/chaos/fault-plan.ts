/**
 * When the fault campaign strikes: detector kills at random moments, one Kafka restart and one Cassandra
 * restart (the single-node stack), or on the multi-node cluster the crashes of its members (clusterFaults),
 * kept apart so each recovery is measured on its own. Seeded, so a run can be repeated.
 */
export type FaultKind = "kill-detector" | "restart-kafka" | "restart-cassandra" | ClusterFaultKind;

/**
 * On the cluster, each a SIGKILL (a crash, not a clean stop) and a restart on the same state a while later:
 * a Cassandra node (back within the hint window: hints bring it up to date); a Cassandra node down past the
 * hint window (a repair does); the broker leading the most partitions of the events topic; the broker that is
 * the active KRaft controller; the broker coordinating the detectors' consumer group (their heartbeats and
 * commits go to it, so they must find its successor); a detector killed while a broker is down (its restart has to find the group's
 * coordinator and the partitions' leaders on the brokers left).
 */
export const clusterFaults = [
  "kill-cassandra-node",
  "kill-cassandra-node-past-hint-window",
  "kill-busiest-broker",
  "kill-controller",
  "kill-group-coordinator",
  "kill-detector-during-broker-loss",
] as const;
export type ClusterFaultKind = (typeof clusterFaults)[number];
export interface Fault {
  readonly atSeconds: number;
  readonly kind: FaultKind;
}

/** A small seeded generator (mulberry32): the same seed gives the same plan. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Spreads the faults over [start, end] seconds: the window is cut into one slot per fault, in shuffled order,
 * and each fault lands at a random point in the middle half of its slot, so two faults are never closer than
 * half a slot.
 */
export function planFaults(o: {
  kills: number;
  restartKafka: boolean;
  restartCassandra: boolean;
  /** The cluster's faults, each once. */
  cluster?: readonly ClusterFaultKind[];
  startSeconds: number;
  endSeconds: number;
  seed: number;
}): Fault[] {
  const random = seededRandom(o.seed);
  const kinds: FaultKind[] = [
    ...Array.from({ length: o.kills }, (): FaultKind => "kill-detector"),
    ...(o.restartKafka ? (["restart-kafka"] as const) : []),
    ...(o.restartCassandra ? (["restart-cassandra"] as const) : []),
    ...(o.cluster ?? []),
  ];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const slot = (o.endSeconds - o.startSeconds) / Math.max(1, kinds.length);
  return kinds.map((kind, i) => ({
    kind,
    atSeconds: Math.round((o.startSeconds + slot * i + slot * (0.25 + 0.5 * random())) * 10) / 10,
  }));
}
