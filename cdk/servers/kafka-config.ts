/**
 * Kafka broker properties, generated once for the local KRaft broker and for the MSK configuration.
 * The shared part is what we rely on in both places; each target adds only what differs.
 */
import { kafkaPorts } from "./ports.ts";

type Properties = Readonly<Record<string, string | number | boolean>>;

/** What the pipeline relies on wherever it runs. */
export const sharedBrokerProperties = {
  // Topics are created by the app with an explicit partition count; a typo must not create a topic.
  "auto.create.topics.enable": false,
  "unclean.leader.election.enable": false,
  // The reference found one replica fetcher (the default) limited throughput under replication 3.
  "num.replica.fetchers": 4,
  // Events are a buffer for at most a day of replay, not an archive.
  "log.retention.hours": 24,
  "compression.type": "producer",
} as const satisfies Properties;

export function renderProperties(props: Properties): string {
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join("\n")}\n`;
}

/** Amazon MSK configuration (server.properties); replication settings come from the size plan. */
export function mskServerProperties(opts: { replicationFactor: number; minInsyncReplicas: number }): string {
  return renderProperties({
    ...sharedBrokerProperties,
    "default.replication.factor": opts.replicationFactor,
    "min.insync.replicas": opts.minInsyncReplicas,
    "offsets.topic.replication.factor": opts.replicationFactor,
    "transaction.state.log.replication.factor": opts.replicationFactor,
    "transaction.state.log.min.isr": opts.minInsyncReplicas,
  });
}

/** One combined broker+controller in KRaft mode on loopback; replication 1 because there is one broker. */
export function localBrokerProperties(opts: { logDir: string; host: string }): string {
  const client = `${opts.host}:${kafkaPorts.localClient}`;
  const controller = `${opts.host}:${kafkaPorts.localController}`;
  return renderProperties({
    ...sharedBrokerProperties,
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@${controller}`,
    listeners: `PLAINTEXT://${client},CONTROLLER://${controller}`,
    "advertised.listeners": `PLAINTEXT://${client}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": opts.logDir,
    "default.replication.factor": 1,
    "min.insync.replicas": 1,
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 4,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "num.replica.fetchers": 1,
    // A single local consumer group should not wait 3 s for more members before its first assignment.
    "group.initial.rebalance.delay.ms": 0,
  });
}

/**
 * One node of a local multi-broker KRaft cluster on loopback (scripts/local/kafka-cluster.ts): the quorum's
 * nodes (node 1 alone by default) are broker and controller, the others brokers only, so the cluster grows by
 * starting brokers without touching the controller quorum (as MSK adds brokers). Replication as asked (the
 * cloud's, to exercise its placement).
 */
export function localClusterNodeProperties(opts: {
  nodeId: number;
  logDir: string;
  host: string;
  /** The controller quorum: node id → its controller listener port. */
  controllers: ReadonlyMap<number, number>;
  clientPort: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  offsetsTopicPartitions: number;
  /** broker.rack, as MSK sets it to the broker's availability zone, so replicas spread over racks. */
  rack?: string;
}): string {
  const client = `${opts.host}:${opts.clientPort}`;
  const ownControllerPort = opts.controllers.get(opts.nodeId);
  const voters = [...opts.controllers].map(([id, port]) => `${id}@${opts.host}:${port}`).join(",");
  return renderProperties({
    ...sharedBrokerProperties,
    "process.roles": ownControllerPort === undefined ? "broker" : "broker,controller",
    "node.id": opts.nodeId,
    "controller.quorum.voters": voters,
    listeners:
      ownControllerPort === undefined ? `PLAINTEXT://${client}` : `PLAINTEXT://${client},CONTROLLER://${opts.host}:${ownControllerPort}`,
    "advertised.listeners": `PLAINTEXT://${client}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": opts.logDir,
    "default.replication.factor": opts.replicationFactor,
    "min.insync.replicas": opts.minInsyncReplicas,
    "offsets.topic.replication.factor": opts.replicationFactor,
    "offsets.topic.num.partitions": opts.offsetsTopicPartitions,
    "transaction.state.log.replication.factor": opts.replicationFactor,
    "transaction.state.log.min.isr": opts.minInsyncReplicas,
    "num.replica.fetchers": 1,
    "group.initial.rebalance.delay.ms": 0,
    ...(opts.rack === undefined ? {} : { "broker.rack": opts.rack }),
  });
}

/** JVM options for the local broker: small heap, G1, no JMX. */
export function localBrokerJvmOptions(opts: { heapMiB: number; logDir: string; log4jConfig: string }): string[] {
  return [
    `-Xms${opts.heapMiB}m`,
    `-Xmx${opts.heapMiB}m`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dkafka.logs.dir=${opts.logDir}`,
    `-Dlog4j.configuration=file:${opts.log4jConfig}`,
  ];
}

export function log4jProperties(logFile: string): string {
  return renderProperties({
    "log4j.rootLogger": "INFO, file",
    "log4j.appender.file": "org.apache.log4j.RollingFileAppender",
    "log4j.appender.file.File": logFile,
    "log4j.appender.file.MaxFileSize": "20MB",
    "log4j.appender.file.MaxBackupIndex": 2,
    "log4j.appender.file.layout": "org.apache.log4j.PatternLayout",
    "log4j.appender.file.layout.ConversionPattern": "[%d] %p %m (%c)%n",
    "log4j.logger.kafka": "INFO",
    "log4j.logger.org.apache.kafka": "INFO",
  });
}
