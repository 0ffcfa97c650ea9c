/** Ports of the servers, shared by the local stack, the CDK security groups and the charts' NetworkPolicies. */
export const cassandraPorts = {
  cql: 9042,
  storage: 7000,
  jmx: 7199,
  /** Prometheus exporter on each Cassandra node (cloud). */
  exporter: 9500,
  /**
   * The local multi-node stack's node n (from 1) has its JMX on localStackJmx + n: each node has an address of
   * its own (127.0.0.1 + n) for CQL and storage, but Cassandra binds its local JMX to 127.0.0.1 only.
   */
  localStackJmx: 7200,
} as const;

export const kafkaPorts = {
  /** Local broker: plaintext client listener on loopback. */
  localClient: 9092,
  /** Local broker: KRaft controller listener on loopback. */
  localController: 9093,
  /**
   * A multi-broker KRaft cluster a test runs of its own beside the shared stack (scripts/local/kafka-cluster.ts):
   * its controller here, broker n (from 1) on ownClusterController + n. A range of its own, clear of the shared
   * stack's ports and of the test Cassandra nodes' offsets.
   */
  ownClusterController: 29090,
  /**
   * The local multi-node stack (`npm run stack -- start --nodes 3`): its controller here, broker n on
   * localStackController + n, a range apart from a test's own cluster so both can run at once.
   */
  localStackController: 29190,
  /** Amazon MSK fixed ports: TLS, SASL/SCRAM, IAM, and the open-monitoring exporters. */
  mskTls: 9094,
  mskScram: 9096,
  mskIam: 9098,
  mskJmxExporter: 11001,
  mskNodeExporter: 11002,
} as const;
