/**
 * Where the workloads find Kafka and Cassandra: the one description of those endpoints, which the EKS stack
 * fills with its resources' attributes (CDK tokens, resolved at deploy time) and the charts read
 * (`npm run synth:k8s` fills it from flags). A plain type, no CDK import: charts/ may read it without
 * depending on the stacks.
 */
import type { KafkaAuthKind } from "../app/config.ts";

export interface WorkloadEndpoints {
  /** Kafka bootstrap servers, "host:port,host:port" (MSK: the bootstrap string of the chosen auth). */
  readonly kafkaBrokers: string;
  /** Cassandra contact points, "host:port,host:port". */
  readonly cassandraContactPoints: string;
  /**
   * The Cassandra data centre the detectors are in (the snitch's name for the region).
   * @default the app's default (app/config.ts `cassandraLocalDataCenter`)
   */
  readonly cassandraLocalDataCenter?: string;
  /**
   * How the app authenticates to Kafka (`aws-iam` for MSK's IAM access control, port 9098).
   * @default the app's default (app/config.ts `kafkaAuth`: none)
   */
  readonly kafkaAuth?: KafkaAuthKind;
  /**
   * AWS region the app signs MSK IAM tokens for (needed with `kafkaAuth: "aws-iam"`).
   * @default none (the app's default)
   */
  readonly awsRegion?: string;
  /**
   * Cassandra role the detector logs in as, with the password in `cassandraPasswordSecretArn`.
   * @default no authentication
   */
  readonly cassandraUsername?: string;
  /**
   * Secrets Manager ARN of the `cassandraUsername` role's password (the app reads it with its pod credentials).
   * @default no authentication
   */
  readonly cassandraPasswordSecretArn?: string;
  /**
   * Secrets Manager secret holding the CA certificate of a cluster that requires TLS (public).
   * @default plaintext
   */
  readonly cassandraTlsCaSecretArn?: string;
  /**
   * Broker host names, to scrape MSK open monitoring (JMX and node exporters).
   * @default no scrape config
   */
  readonly kafkaMonitoringHosts?: readonly string[];
  /**
   * Cassandra node addresses, to scrape their Prometheus exporters.
   * @default no scrape config
   */
  readonly cassandraExporterHosts?: readonly string[];
  /**
   * CIDR blocks of the Kafka and Cassandra subnets. When given, the pods' egress to the Kafka, Cassandra and
   * exporter ports is limited to them.
   * @default those ports are allowed to any address
   */
  readonly dataPlaneCidrs?: readonly string[];
  /**
   * The pods use AWS APIs with EKS Pod Identity credentials (MSK IAM auth, Secrets Manager): their egress to the
   * Pod Identity agent (169.254.170.23:80) and to HTTPS is allowed. False for clusters outside AWS.
   * @default true
   */
  readonly awsApis?: boolean;
}
