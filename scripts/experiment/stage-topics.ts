/**
 * The topics of a staged experiment follow each stage's plan the way the cloud's do: one set of topics per
 * experiment run, grown in place at every stage by the same ensureSchema the schema Job runs (app/detector/
 * schema.ts, through scripts/local/isolated-run.ts), with the topic configs of app/topology.ts. Growing, not a topic per stage, because the cloud
 * names its topics once (app/topology.ts → charts, the detectors' IAM policy on topic ARNs), so growth is the
 * joint the cloud depends on and the local runs must exercise it.
 *
 * What a stage reports is read back from Kafka, not taken from the plan.
 */
import type { Admin } from "kafkajs";
import { isTransientKafkaError } from "../../app/kafka/kafka-client.ts";
import { withRetry } from "../../app/retry.ts";

/** Partitions of `topic` as the brokers' metadata has them now. */
export async function readPartitions(admin: Admin, topic: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const found = topics.find((t) => t.name === topic);
  if (found === undefined) throw new Error(`topic ${topic}: not in the brokers' metadata`);
  return found.partitions.length;
}

/**
 * Empties a topic's log (DeleteRecords up to the high watermark), so a new trial's detector group, which
 * starts from the beginning, sees only its own trial's events although the topic outlives the trial.
 */
export async function emptyTopic(admin: Admin, topic: string): Promise<void> {
  // A partition just created or grown can answer NOT_LEADER for a moment after its metadata shows a leader.
  await withRetry(
    async () => {
      const ends = await admin.fetchTopicOffsets(topic);
      const nonEmpty = ends.filter((p) => Number(p.high) > Number(p.low));
      if (nonEmpty.length > 0) {
        await admin.deleteTopicRecords({ topic, partitions: nonEmpty.map((p) => ({ partition: p.partition, offset: p.high })) });
      }
    },
    { isTransient: isTransientKafkaError, baseMs: 200, maxMs: 2_000, stop: (attempt) => attempt >= 10 },
  );
}
