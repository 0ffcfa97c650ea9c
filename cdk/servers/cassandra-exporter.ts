/**
 * The Prometheus JMX exporter on every Cassandra node: its pinned version, what it publishes, and the names
 * of the ring-state series that readiness reads (scripts/experiment/readiness.ts). One module, so the node's
 * exporter configuration and the queries that read it cannot drift apart.
 */
export const jmxExporterVersion = "1.5.0";

/** Metrics the exporter publishes: client latencies, the pipeline's table, pools, storage, GC, ring state. */
export const jmxExporterConfig = `lowercaseOutputName: true
lowercaseOutputLabelNames: true
includeObjectNames:
  - "org.apache.cassandra.metrics:type=ClientRequest,*"
  - "org.apache.cassandra.metrics:type=Table,keyspace=anomalia,*"
  - "org.apache.cassandra.metrics:type=ThreadPools,*"
  - "org.apache.cassandra.metrics:type=Storage,*"
  - "org.apache.cassandra.metrics:type=Compaction,*"
  - "org.apache.cassandra.metrics:type=CommitLog,*"
  - "org.apache.cassandra.metrics:type=DroppedMessage,*"
  - "org.apache.cassandra.metrics:type=Client,*"
  - "org.apache.cassandra.db:type=StorageService"
  - "org.apache.cassandra.net:type=FailureDetector"
  - "java.lang:type=GarbageCollector,*"
  - "java.lang:type=Memory"
`;

/**
 * Ring state as the exporter names it (boolean attributes become 0/1). A node is Up/Normal for readiness when
 * it has joined, is not bootstrapping, and sees every planned node up. Verified against a real exporter on
 * the local Cassandra by test/stack (the names are the exporter's default formatting of the MBean attributes).
 */
export const cassandraRingMetrics = {
  joined: "org_apache_cassandra_db_storageservice_joined",
  bootstrapMode: "org_apache_cassandra_db_storageservice_bootstrapmode",
  upEndpoints: "org_apache_cassandra_net_failuredetector_upendpointcount",
  downEndpoints: "org_apache_cassandra_net_failuredetector_downendpointcount",
} as const;
