/**
 * Spreads the partitions of the given topics (and __consumer_offsets) evenly over every broker of the cluster,
 * with Kafka's own reassignment, then reads back who leads what and judges it (leader-balance.ts).
 *
 * 1. the brokers (DescribeCluster) and each partition's replicas and leader (Metadata);
 * 2. the target placement (replica-placement.ts), applied with AlterPartitionReassignments for the partitions it
 *    changes; Kafka copies the new replicas, then drops the old ones;
 * 3. a wait on ListPartitionReassignments until none of ours is in progress, ending early only when the count
 *    left has not moved for `stallMs` (copying a large partition takes time; a stuck one is reported);
 * 4. a preferred-leader election for the changed partitions (elect-leaders.ts), repeated until the metadata
 *    shows each partition led by its first replica;
 * 5. the read-back: leaders and replicas per broker, per topic, and the balance check of each topic.
 *
 * Idempotent: a balanced cluster gets no reassignment, and a second run after an interrupted one finishes it.
 */
import type { Admin, Kafka } from "kafkajs";
import { waitFor, waitWhileMoving } from "../retry.ts";
import { consumerOffsetsTopic } from "../topology.ts";
import { electPreferredLeaders, type ElectionResult } from "./elect-leaders.ts";
import { checkLeaderBalance, type LeaderBalance } from "./leader-balance.ts";
import { balancedPlacement, changedPlacements, perBroker, type PartitionPlacement } from "./replica-placement.ts";

export { consumerOffsetsTopic };

export interface RebalanceOptions {
  /** The topics to spread (those that exist); __consumer_offsets is added when it exists. */
  readonly topics: readonly string[];
  /** The topics whose leader balance decides the outcome (default: `topics`). */
  readonly judged?: readonly string[];
  readonly log: (message: string) => void;
  /** How long the reassignments left may stay the same before the wait gives up (default 15 minutes). */
  readonly stallMs?: number;
  /** Bound of the wait for the elected leaders to show in the metadata (default 2 minutes). */
  readonly electionTimeoutMs?: number;
}

export interface TopicSpread {
  readonly leaders: Readonly<Record<string, number>>;
  readonly replicas: Readonly<Record<string, number>>;
}

export interface RebalanceOutcome {
  readonly brokers: number[];
  /** Partitions whose replica list the reassignment changed (moved or reordered). */
  readonly reassigned: number;
  readonly before: Readonly<Record<string, TopicSpread>>;
  readonly after: Readonly<Record<string, TopicSpread>>;
  readonly balance: LeaderBalance[];
  readonly balanced: boolean;
}

const asRecord = (m: Map<number, number>) => Object.fromEntries([...m].map(([b, n]) => [String(b), n]));

async function readPlacement(admin: Admin, topics: readonly string[]): Promise<PartitionPlacement[]> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
  return metadata.flatMap((t) =>
    t.partitions.map((p) => ({
      topic: t.name,
      partition: p.partitionId,
      replicas: p.replicas,
      ...(p.leader >= 0 ? { leader: p.leader } : {}),
    })),
  );
}

function spread(placement: readonly PartitionPlacement[], brokers: readonly number[]): Record<string, TopicSpread> {
  const topics = [...new Set(placement.map((p) => p.topic))].sort();
  return Object.fromEntries(
    topics.map((t) => {
      const of = placement.filter((p) => p.topic === t);
      return [t, { leaders: asRecord(perBroker(of, brokers, "leaders")), replicas: asRecord(perBroker(of, brokers, "replicas")) }];
    }),
  );
}

const byTopic = (placement: readonly PartitionPlacement[]): Map<string, number[]> => {
  const m = new Map<string, number[]>();
  for (const p of placement) m.set(p.topic, [...(m.get(p.topic) ?? []), p.partition]);
  return m;
};

/**
 * Preferred-leader elections for the partitions of `topics` that `due` picks, repeated until the metadata shows each
 * led by its first replica (one that is not in sync yet is refused, and asked again). Returns how many were not led
 * by it at the first look.
 */
export async function electUntilPreferred(
  kafka: Kafka,
  admin: Admin,
  o: {
    readonly topics: readonly string[];
    readonly due: (p: PartitionPlacement) => boolean;
    /** What the partitions are, for the progress lines and the error. */
    readonly what: string;
    readonly log: (message: string) => void;
    /** Bound of the wait (default 2 minutes). */
    readonly timeoutMs?: number;
  },
): Promise<number> {
  let refused: ElectionResult[] = [];
  let first: number | null = null;
  let left = 0;
  await waitFor(
    async () => {
      const notYet = (await readPlacement(admin, o.topics)).filter((p) => o.due(p) && p.leader !== p.replicas[0]);
      first ??= notYet.length;
      left = notYet.length;
      if (notYet.length === 0) return true;
      refused = await electPreferredLeaders(kafka, byTopic(notYet));
      return false;
    },
    {
      what: `the preferred leaders of ${o.what}`,
      timeoutMs: o.timeoutMs ?? 120_000,
      intervalMs: 1_000,
      onWait: () => o.log(`leaders: ${left} ${o.what} not yet led by their preferred replica`),
      detail: () => refused.map((r) => `${r.topic}/${r.partition}: error ${r.errorCode} ${r.errorMessage ?? ""}`.trim()).join("; "),
    },
  );
  return first ?? 0;
}

/** Partitions of `topics` with a reassignment in progress. */
async function inProgress(admin: Admin, topics: ReadonlySet<string>): Promise<number> {
  const { topics: ongoing } = await admin.listPartitionReassignments({});
  // kafkajs 2.2.4 returns `name` where its types say `topic`.
  return ongoing
    .filter((t) => topics.has((t as unknown as { name?: string }).name ?? t.topic))
    .reduce((n, t) => n + t.partitions.length, 0);
}

export async function rebalancePartitions(kafka: Kafka, admin: Admin, o: RebalanceOptions): Promise<RebalanceOutcome> {
  const brokers = (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  const existing = new Set(await admin.listTopics());
  const missing = o.topics.filter((t) => !existing.has(t));
  if (missing.length > 0)
    throw new Error(`topics ${missing.join(", ")}: not in the cluster; allowed: existing topics (${[...existing].sort().join(", ")})`);
  const topics = [...o.topics, ...(existing.has(consumerOffsetsTopic) ? [consumerOffsetsTopic] : [])];
  const current = await readPlacement(admin, topics);
  const target = balancedPlacement(current, brokers);
  const changes = changedPlacements(current, target);
  o.log(
    `${brokers.length} brokers (${brokers.join(", ")}); ${current.length} partitions of ${topics.join(", ")}; ${changes.length} to reassign`,
  );

  if (changes.length > 0) {
    await admin.alterPartitionReassignments({
      topics: [...byTopic(changes)].map(([topic, ids]) => ({
        topic,
        partitionAssignment: ids.map((partition) => ({
          partition,
          replicas: [...changes.find((c) => c.topic === topic && c.partition === partition)!.replicas],
        })),
      })),
    });
    const ours = new Set(topics);
    let last = -1;
    await waitWhileMoving(() => inProgress(admin, ours), {
      what: `the reassignment of ${changes.length} partitions`,
      until: (left) => {
        if (left !== last) o.log(`reassignment: ${changes.length - left} of ${changes.length} partitions done`);
        last = left;
        return left === 0;
      },
      stallMs: o.stallMs ?? 15 * 60_000,
      intervalMs: 1_000,
    });
    const toElect = byTopic(changes);
    await electUntilPreferred(kafka, admin, {
      topics,
      due: (p) => toElect.get(p.topic)?.includes(p.partition) === true,
      what: "reassigned partitions",
      log: o.log,
      ...(o.electionTimeoutMs === undefined ? {} : { timeoutMs: o.electionTimeoutMs }),
    });
  }

  const after = await readPlacement(admin, topics);
  const judged = o.judged ?? o.topics;
  const balance = judged.map((t) =>
    checkLeaderBalance(
      t,
      perBroker(
        after.filter((p) => p.topic === t),
        brokers,
        "leaders",
      ),
    ),
  );
  return {
    brokers,
    reassigned: changes.length,
    before: spread(current, brokers),
    after: spread(after, brokers),
    balance,
    balanced: balance.every((b) => b.balanced),
  };
}
