/**
 * What the charts need besides the size plan: where Kafka and Cassandra are, and which image runs the app.
 * The CDK app passes its resources' attributes (CDK tokens are fine: they are resolved at deploy time);
 * `npm run synth:k8s` passes flags.
 */
import type { KafkaAuthKind } from "../app/config.ts";
import type { ImageDigests } from "./versions.ts";

export interface PipelineEndpoints {
  /** Kafka bootstrap servers, "host:port,host:port" (MSK: the bootstrap string of the chosen auth). */
  readonly kafkaBrokers: string;
  /** Cassandra contact points, "host:port,host:port". */
  readonly cassandraContactPoints: string;
  /** The Cassandra data centre the detectors are in (the snitch's name for the region); the app's default if omitted. */
  readonly cassandraLocalDataCenter?: string;
  /** How the app authenticates to Kafka (`aws-iam` for MSK's IAM access control, port 9098); the app's default if omitted. */
  readonly kafkaAuth?: KafkaAuthKind;
  /** AWS region the app signs MSK IAM tokens for (needed with `kafkaAuth: "aws-iam"`). */
  readonly awsRegion?: string;
  /** Cassandra role the detector logs in as, with the password in this Secrets Manager secret; no authentication if omitted. */
  readonly cassandraUsername?: string;
  readonly cassandraPasswordSecretArn?: string;
  /** Secrets Manager secret holding the CA certificate of a cluster that requires TLS; plaintext if omitted. */
  readonly cassandraTlsCaSecretArn?: string;
  /** Broker host names, to scrape MSK open monitoring (JMX and node exporters); no scrape config if omitted. */
  readonly kafkaMonitoringHosts?: readonly string[];
  /** Cassandra node addresses, to scrape their Prometheus exporters; no scrape config if omitted. */
  readonly cassandraExporterHosts?: readonly string[];
  /**
   * CIDR blocks of the Kafka and Cassandra subnets. When given, the pods' egress to the Kafka, Cassandra and
   * exporter ports is limited to them; otherwise those ports are allowed to any address.
   */
  readonly dataPlaneCidrs?: readonly string[];
  /**
   * The pods use AWS APIs with EKS Pod Identity credentials (MSK IAM auth, Secrets Manager): their egress to the
   * Pod Identity agent (169.254.170.23:80) and to HTTPS is allowed. Default true; false for clusters outside AWS.
   */
  readonly awsApis?: boolean;
}

export interface AppImage {
  /**
   * The one container image of the detector and the load generator: `name:tag`, `name@sha256:...` or both
   * (checked unless it is a CDK token).
   */
  readonly image: string;
  /** Arguments that select the detector / the load generator (the image's entry point takes a command). */
  readonly detectorArgs: readonly string[];
  readonly loadGeneratorArgs: readonly string[];
  /** Arguments of the one-off command that creates the topics, keyspace and table (the schema Job). */
  readonly schemaArgs: readonly string[];
  /** The image's non-root user id. */
  readonly uid: number;
  /**
   * Changes whenever the image's content changes (its tag), when `image` is a deploy-time token that stays the
   * same text: it goes into the schema Job's name, because a Job's pod template cannot be changed in place.
   */
  readonly revision?: string;
}

export interface ChartOptions {
  readonly endpoints: PipelineEndpoints;
  readonly app?: Partial<AppImage>;
  /** Fraction of events traced to Jaeger (0 turns tracing off). */
  readonly tracingSampleRatio?: number;
  readonly grafana?: GrafanaOptions;
  /** Digests of the third-party images (charts/versions.ts), to pin them; by release tag otherwise. */
  readonly imageDigests?: ImageDigests;
}

export interface GrafanaOptions {
  /**
   * Let anyone who reaches Grafana view dashboards without logging in. Default false: the cloud kit requires the
   * admin login (its password is in the `grafana-admin` Secret). For a throwaway cluster of one's own.
   */
  readonly anonymousViewers?: boolean;
}

export const defaultAppImage: AppImage = {
  image: "anomaly-kit:latest",
  detectorArgs: ["detector"],
  loadGeneratorArgs: ["loadgen"],
  schemaArgs: ["schema"],
  // The `node` user of the official Node.js images.
  uid: 1000,
};

/** One traced event in a thousand: enough to follow every stage, little enough for Jaeger's memory bound. */
export const defaultTracingSampleRatio = 0.001;

/** True for a CDK token (an attribute resolved at deploy time), which cannot be checked at synth time. */
export const isUnresolved = (value: string): boolean => value.includes("${Token[");
