/**
 * The local stack's Kafka broker: one KRaft node (broker and controller) on loopback, its settings rendered by
 * cdk/servers/kafka-config.ts, and the probe that says when a broker answers.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { localBrokerJvmOptions, localBrokerProperties, log4jProperties } from "../../cdk/servers/kafka-config.ts";
import { kafkaPorts } from "../../cdk/servers/ports.ts";
import { kafkaVersion } from "../../cdk/versions.ts";
import { formatKafkaStorage, newKafkaClusterId } from "./kafka-storage.ts";
import type { LocalServer } from "./local-server.ts";
import { localEndpoints, localHost, stateRoot } from "./locations.ts";
import { kafkaClasspath } from "./maven-classpath.ts";
import { StackError } from "./stack-messages.ts";

/** Sized for a 2-core, 24 GiB machine that also runs Cassandra, the detector and the load generator. */
const kafkaHeapMiB = 512;

/** A probe's bound: a broker still starting accepts the connection but may not answer for minutes. */
const kafkaProbeTimeoutMs = 5_000;

/** The cluster as `brokers` describe it, or null when none answers in time (a readiness probe). */
export async function describeKafka(
  brokers: readonly string[],
  clientId: string,
): Promise<Awaited<ReturnType<Admin["describeCluster"]>> | null> {
  const admin = new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
    requestTimeout: kafkaProbeTimeoutMs,
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  // kafkajs's request timeout does not cover every step of connecting (a broker replaying its log after a
  // crash held a probe for minutes), so the probe has a bound of its own.
  const bound = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), kafkaProbeTimeoutMs)));
  const probe = (async () => {
    await admin.connect();
    return admin.describeCluster();
  })().catch(() => null);
  try {
    return await Promise.race([probe, bound]);
  } finally {
    clearTimeout(timer);
    void admin.disconnect().catch(() => undefined);
  }
}

/** Whether the stack's broker answers with a controller elected. */
export async function kafkaAnswers(): Promise<boolean> {
  const cluster = await describeKafka([localEndpoints.kafkaBrokers], "stack-probe");
  return cluster !== null && cluster.brokers.length > 0 && cluster.controller !== null;
}

const mainClass = "kafka.Kafka";
const dir = join(stateRoot, "kafka");

/** Writes the broker's config files, formats its storage the first time, and returns java's arguments. */
function kafkaJavaCommand(): string[] {
  const classpath = kafkaClasspath();
  const logDir = join(dir, "logs");
  mkdirSync(logDir, { recursive: true });
  const config = join(dir, "server.properties");
  const log4j = join(dir, "log4j.properties");
  const dataDir = join(dir, "data");
  writeFileSync(config, localBrokerProperties({ logDir: dataDir, host: localHost }));
  writeFileSync(log4j, log4jProperties(join(logDir, "server.log")));
  const jvm = localBrokerJvmOptions({ heapMiB: kafkaHeapMiB, logDir, log4jConfig: log4j });
  if (!existsSync(join(dataDir, "meta.properties"))) {
    // KRaft needs its storage formatted once with a cluster id (22-char URL-safe base64 UUID).
    const failure = formatKafkaStorage({ jvm, classpath, config, clusterId: newKafkaClusterId() });
    if (failure !== null) throw new StackError(`formatting Kafka storage in ${dataDir} failed:\n${failure}`);
  }
  return [...jvm, "-cp", classpath, mainClass, config];
}

/** The stack's one broker, on the standard client port. */
export const localKafka: LocalServer = {
  name: "kafka",
  label: `Kafka ${kafkaVersion}`,
  port: kafkaPorts.localClient,
  host: localHost,
  dir,
  mainClass,
  // It has no authentication or TLS to differ in.
  alreadyRunning: () => "",
  javaCommand: kafkaJavaCommand,
  answers: kafkaAnswers,
};
