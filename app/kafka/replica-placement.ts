/**
 * Where each partition's replicas should live so that every broker holds an even share, and leads an even
 * share: the plan a reassignment carries out after brokers joined. Kafka places only new partitions on new
 * brokers (CreatePartitions); the old ones, and __consumer_offsets, stay where they were, so without this the
 * brokers of an earlier stage lead most partitions.
 *
 * Pure: the current placement and the brokers in, the target placement out. It moves as few replicas as it can
 * (a replica stays unless its broker holds more than its share), and picks leaders among each partition's
 * target replicas so that every broker leads its share (augmenting paths, so it never gets stuck where a
 * better choice exists). Shares are per topic (floor or ceiling of the even split); the brokers that get the
 * ceiling are those least loaded over the topics placed before, so the totals stay even too.
 */

export interface PartitionPlacement {
  readonly topic: string;
  readonly partition: number;
  /** Replica broker ids; the first is the preferred leader. */
  readonly replicas: readonly number[];
  /** The broker leading it now, when known (kept as leader when that keeps the shares even). */
  readonly leader?: number;
}

type Load = Map<number, number>;

const countOf = (load: Load, broker: number) => load.get(broker) ?? 0;
const add = (load: Load, broker: number, n: number) => load.set(broker, countOf(load, broker) + n);

/**
 * Each broker's share of `total`: floor or ceiling of the even split; the ceilings go to the brokers least
 * loaded so far (`running`), then to those holding most now (`current`: fewer moves), then by id.
 */
function shares(total: number, brokers: readonly number[], running: Load, current: Load): Load {
  const base = Math.floor(total / brokers.length);
  const extra = total % brokers.length;
  const order = [...brokers].sort(
    (a, b) => countOf(running, a) - countOf(running, b) || countOf(current, b) - countOf(current, a) || a - b,
  );
  return new Map(order.map((broker, i) => [broker, base + (i < extra ? 1 : 0)]));
}

function validate(current: readonly PartitionPlacement[], brokers: readonly number[]): void {
  if (brokers.length === 0) throw new Error("brokers: empty; allowed: at least one broker id");
  const bad = brokers.filter((b) => !Number.isInteger(b) || b < 0);
  if (bad.length > 0) throw new Error(`brokers: ${bad.join(", ")}; allowed: integer ids >= 0`);
  if (new Set(brokers).size !== brokers.length) throw new Error(`brokers: ${brokers.join(", ")}; allowed: each id once`);
  for (const p of current) {
    const where = `topic ${p.topic} partition ${p.partition}`;
    if (p.replicas.length === 0) throw new Error(`${where}: no replicas; allowed: 1 to ${brokers.length} replicas`);
    if (p.replicas.length > brokers.length) {
      throw new Error(`${where}: ${p.replicas.length} replicas; allowed: at most ${brokers.length}, one per broker`);
    }
    if (new Set(p.replicas).size !== p.replicas.length)
      throw new Error(`${where}: replicas ${p.replicas.join(", ")}; allowed: each broker once`);
  }
}

/** Moves replicas off brokers above their share onto brokers below it, keeping each partition's other replicas. */
function placeReplicas(parts: readonly PartitionPlacement[], brokers: readonly number[], running: Load): number[][] {
  const live = new Set(brokers);
  // Replicas on brokers that left are dropped here and re-placed below.
  const sets = parts.map((p) => p.replicas.filter((r) => live.has(r)));
  const count: Load = new Map(brokers.map((b) => [b, 0]));
  for (const s of sets) for (const r of s) add(count, r, 1);
  const quota = shares(
    parts.reduce((n, p) => n + p.replicas.length, 0),
    brokers,
    running,
    count,
  );
  const room = (b: number) => (quota.get(b) ?? 0) - countOf(count, b);
  parts.forEach((p, i) => {
    const set = sets[i]!;
    while (set.length < p.replicas.length) {
      const to = brokers.filter((b) => !set.includes(b)).sort((a, b) => room(b) - room(a) || a - b)[0]!;
      set.push(to);
      add(count, to, 1);
    }
  });
  for (;;) {
    const over = brokers.filter((b) => room(b) < 0);
    const under = brokers.filter((b) => room(b) > 0);
    let moved = false;
    // A broker above its share holds more replicas than one below it, so some partition has the first and not
    // the second: a move always exists while shares are unmet. Followers move before leaders.
    search: for (const from of over) {
      for (const to of under) {
        const candidates = sets.map((s, i) => i).filter((i) => sets[i]!.includes(from) && !sets[i]!.includes(to));
        const pick = candidates.find((i) => sets[i]![0] !== from) ?? candidates[0];
        if (pick === undefined) continue;
        const set = sets[pick]!;
        set[set.indexOf(from)] = to;
        add(count, from, -1);
        add(count, to, 1);
        moved = true;
        break search;
      }
    }
    if (!moved) break;
  }
  for (const [b, n] of count) add(running, b, n);
  return sets;
}

/** Picks a leader among each partition's replicas so that every broker leads its share. */
function pickLeaders(parts: readonly PartitionPlacement[], sets: readonly number[][], brokers: readonly number[], running: Load): number[] {
  const leader = parts.map((p, i) => (p.leader !== undefined && sets[i]!.includes(p.leader) ? p.leader : sets[i]![0]!));
  const count: Load = new Map(brokers.map((b) => [b, 0]));
  for (const l of leader) add(count, l, 1);
  const quota = shares(parts.length, brokers, running, count);
  const room = (b: number) => (quota.get(b) ?? 0) - countOf(count, b);
  for (;;) {
    const over = brokers.filter((b) => room(b) < 0);
    if (over.length === 0) break;
    // Breadth-first from the overloaded brokers: broker b → broker c when b leads a partition c holds a replica of.
    const via = new Map<number, { from: number; partition: number }>();
    const seen = new Set(over);
    const queue = [...over];
    let found: number | undefined;
    while (queue.length > 0 && found === undefined) {
      const b = queue.shift()!;
      for (let i = 0; i < sets.length && found === undefined; i++) {
        if (leader[i] !== b) continue;
        for (const c of sets[i]!) {
          if (seen.has(c)) continue;
          seen.add(c);
          via.set(c, { from: b, partition: i });
          if (room(c) > 0) {
            found = c;
            break;
          }
          queue.push(c);
        }
      }
    }
    if (found === undefined) break; // the replica placement allows no better spread
    for (let c = found, step = via.get(c); step !== undefined; c = step.from, step = via.get(c)) {
      leader[step.partition] = c;
      add(count, c, 1);
      add(count, step.from, -1);
    }
  }
  for (const [b, n] of count) add(running, b, n);
  return leader;
}

/** The target placement of every partition given, over `brokers`; each replica list starts with its leader. */
export function balancedPlacement(current: readonly PartitionPlacement[], brokers: readonly number[]): PartitionPlacement[] {
  validate(current, brokers);
  const sorted = [...brokers].sort((a, b) => a - b);
  const replicaLoad: Load = new Map();
  const leaderLoad: Load = new Map();
  const topicNames = [...new Set(current.map((p) => p.topic))].sort();
  const out: PartitionPlacement[] = [];
  for (const topic of topicNames) {
    const parts = current.filter((p) => p.topic === topic).sort((a, b) => a.partition - b.partition);
    const sets = placeReplicas(parts, sorted, replicaLoad);
    const leaders = pickLeaders(parts, sets, sorted, leaderLoad);
    parts.forEach((p, i) => {
      const l = leaders[i]!;
      out.push({ topic, partition: p.partition, replicas: [l, ...sets[i]!.filter((r) => r !== l)], leader: l });
    });
  }
  return out;
}

/** The partitions whose replica list (set or order) the plan changes. */
export function changedPlacements(current: readonly PartitionPlacement[], target: readonly PartitionPlacement[]): PartitionPlacement[] {
  const now = new Map(current.map((p) => [`${p.topic}/${p.partition}`, p.replicas.join(",")]));
  return target.filter((p) => now.get(`${p.topic}/${p.partition}`) !== p.replicas.join(","));
}

/** Replicas, or leaders (the known leader, else the first replica), per broker; every broker listed, with 0 if none. */
export function perBroker(
  placement: readonly PartitionPlacement[],
  brokers: readonly number[],
  what: "replicas" | "leaders",
): Map<number, number> {
  const count = new Map([...brokers].sort((a, b) => a - b).map((b) => [b, 0]));
  for (const p of placement) {
    for (const r of what === "leaders" ? [p.leader ?? p.replicas[0]!] : p.replicas) count.set(r, (count.get(r) ?? 0) + 1);
  }
  return count;
}
