/**
 * The Prometheus JMX exporter on every Cassandra node: its pinned version, what it publishes, and the names
 * of the ring-state series that readiness reads (scripts/experiment/readiness.ts). One module, so the node's
 * exporter configuration and the queries that read it cannot drift apart.
 */
/**
 * 1.0.1, not the newest release: it is the last version the project publishes to Maven Central (later ones
 * are GitHub release assets only), and only from there can the local stack fetch — and the test run — the
 * very bytes every node downloads, checked against the digest below.
 */
export const jmxExporterVersion = "1.0.1";
/** SHA-256 of io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1 (computed from the Maven artifact). */
export const jmxExporterSha256 = "7d61f737fd661610ccc14aea79764faa1ea94a340cbc8f0029b3d2edea3d80c1";
/** The path of that artifact in a Maven repository (the nodes download it from Maven Central). */
export const jmxExporterMavenPath = `io/prometheus/jmx/jmx_prometheus_javaagent/${jmxExporterVersion}/jmx_prometheus_javaagent-${jmxExporterVersion}.jar`;

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
 * a real exporter (this version, this config) on a local Cassandra by test/scripts/local/cassandra-auth.int.test.ts
 * (the names are the exporter's default formatting of the MBean attributes).
 */
export const cassandraRingMetrics = {
  joined: "org_apache_cassandra_db_storageservice_joined",
  bootstrapMode: "org_apache_cassandra_db_storageservice_bootstrapmode",
  upEndpoints: "org_apache_cassandra_net_failuredetector_upendpointcount",
  downEndpoints: "org_apache_cassandra_net_failuredetector_downendpointcount",
} as const;
