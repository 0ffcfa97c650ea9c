/** The kafkajs client, the topics the app needs (created idempotently: the brokers auto-create nothing). */
import { Kafka, logLevel, type Admin, type LogEntry } from "kafkajs";
import type { Logger } from "../log.ts";

export function createKafka(clientId: string, brokers: readonly string[], log: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    // kafkajs's own log lines, as ours (one JSON line each)
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        (level <= logLevel.ERROR ? log.error : log.warn)(`kafkajs: ${message}`, fields);
      },
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

/** Creates the topics that do not exist yet; existing ones are left as they are (their partitions too). */
export async function ensureTopics(
  admin: Admin,
  names: readonly string[],
  partitions: number,
  replicationFactor: number,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
    });
  } catch (err) {
    // Another process created it between our list and our create: that is the idempotent outcome we want.
    if (!(err instanceof Error && /already exists/i.test(JSON.stringify(err, Object.getOwnPropertyNames(err))))) throw err;
  }
  return missing;
}
