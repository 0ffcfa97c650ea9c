/**
 * The `rebalance` command: what the rebalance Job runs in the cluster after brokers joined (the runner on the
 * user's machine cannot reach MSK; the pods can, with their IAM identity). It spreads the pipeline's topics
 * and __consumer_offsets, and prints a summary of the read-back as one JSON line, also written as the
 * container's termination message, where the runner reads it from the pod's status (Kubernetes keeps 4 KB).
 */
import { existsSync, writeFileSync } from "node:fs";
import type { Kafka } from "kafkajs";
import { errorText, type Logger } from "../log.ts";
import { topics } from "../topology.ts";
import { rebalancePartitions, type RebalanceOutcome } from "./rebalance.ts";

/** Kubernetes' default terminationMessagePath. */
export const terminationMessagePath = "/dev/termination-log";

/** What the runner reads back: the brokers, what moved, the leaders per broker and the balance judged. */
export interface RebalanceSummary {
  readonly brokers: readonly number[];
  readonly reassigned: number;
  /** topic → broker id → partitions it leads, after the reassignment. */
  readonly leadersBefore: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly leaders: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly problems: readonly string[];
}

export const summarize = (o: RebalanceOutcome): RebalanceSummary => ({
  brokers: o.brokers,
  reassigned: o.reassigned,
  leadersBefore: Object.fromEntries(Object.entries(o.before).map(([t, s]) => [t, s.leaders])),
  leaders: Object.fromEntries(Object.entries(o.after).map(([t, s]) => [t, s.leaders])),
  problems: o.balance.flatMap((b) => (b.problem === undefined ? [] : [b.problem])),
});

/** Returns the process exit code: 0 once the read-back is printed (balanced or not: the runner judges), 1 on error. */
export async function rebalanceCommand(kafka: Kafka, log: Logger): Promise<number> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const outcome = await rebalancePartitions(kafka, admin, {
      topics: [topics.events, topics.checks, topics.deadLetter],
      log: (m) => log.info(m),
    });
    const line = JSON.stringify(summarize(outcome));
    process.stdout.write(`${line}\n`);
    if (existsSync(terminationMessagePath)) writeFileSync(terminationMessagePath, line);
    return 0;
  } catch (err) {
    log.error("rebalance failed", { error: errorText(err) });
    return 1;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
