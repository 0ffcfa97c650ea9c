/**
 * cassandra.yaml, JVM options and logging for a Cassandra 5.0 node, generated once for the local node on
 * loopback and for the cloud's i3 nodes (EC2 user data). What we test locally is what we deploy.
 */
import { stringify } from "yaml";
import { cassandraPorts } from "./ports.ts";
import type { CassandraTlsFiles } from "./cassandra-tls.ts";

export interface CassandraNodeOptions {
  readonly clusterName: string;
  /** Address other nodes and clients reach this node at. */
  readonly address: string;
  readonly seeds: readonly string[];
  /** Data, commit log, hints and caches go under this directory (the NVMe mount in the cloud). */
  readonly dataRoot: string;
  /**
   * SimpleSnitch for one local node; Ec2Snitch in AWS so each availability zone is a rack; the local
   * multi-node stack names its data centre and racks the way Ec2Snitch does, through
   * GossipingPropertyFileSnitch (cassandraRackDcProperties).
   */
  readonly snitch: "SimpleSnitch" | "Ec2Snitch" | "GossipingPropertyFileSnitch";
  /** CPU cores of the node: sizes the read/write thread pools as Cassandra's own guidance does. */
  readonly cores: number;
  /** Password authentication and role-based authorisation (cloud, and the local stack's --auth mode). */
  readonly authentication: boolean;
  /** CQL and storage ports; the shared ones by default (a second local node needs its own). */
  readonly ports?: { readonly cql: number; readonly storage: number };
  /**
   * TLS for clients and between nodes with these PEM files (cassandra-tls.sh makes them); none: plaintext
   * (the shared local node).
   */
  readonly tls?: CassandraTlsFiles;
  /**
   * Whether the CQL port opens when the node starts. False keeps clients out until the first-boot set-up
   * has enabled it (`nodetool enablebinary`); default true.
   */
  readonly startNativeTransport?: boolean;
}

const pemContextFactory = { class_name: "org.apache.cassandra.security.PEMBasedSslContextFactory" };

/**
 * The encryption options for these files. Both sides refuse plaintext (`optional: false`). Internode TLS is
 * mutual: a node accepts only peers whose certificate the cluster's CA signed, which only cluster members
 * hold. Clients need no certificate (they log in with a password) but must speak TLS. Peer addresses are not
 * checked against certificates between nodes (require_endpoint_verification): the CA already identifies a
 * member, and the check is the one setting a single local node cannot exercise before a cloud deploy.
 */
export function cassandraEncryptionOptions(tls: CassandraTlsFiles): Record<string, unknown> {
  const files = { ssl_context_factory: pemContextFactory, keystore: tls.keystore, truststore: tls.truststore };
  const protocols = { accepted_protocols: ["TLSv1.3", "TLSv1.2"] };
  return {
    server_encryption_options: {
      internode_encryption: "all",
      optional: false,
      ...files,
      require_client_auth: true,
      require_endpoint_verification: false,
      ...protocols,
    },
    client_encryption_options: {
      enabled: true,
      optional: false,
      ...files,
      require_client_auth: false,
      ...protocols,
    },
  };
}

/**
 * How long a coordinator keeps hints for a replica that is down: Cassandra's own default, written down
 * because the fault campaign shortens it on live nodes (nodetool setmaxhintwindow) to stand for a node down
 * longer than this, and sets it back to this value afterwards. A node back within the window catches up by
 * hint replay; one down longer misses the writes after it until a repair.
 */
export const cassandraMaxHintWindowMs = 3 * 60 * 60 * 1000;

/** The settings every node has. Values use Cassandra 5.0's unit-suffixed names. */
export function cassandraYaml(o: CassandraNodeOptions): string {
  const ports = o.ports ?? cassandraPorts;
  const config = {
    cluster_name: o.clusterName,
    // 16 vnodes with token allocation for RF 3: even ownership without 256-vnode repair costs.
    num_tokens: 16,
    allocate_tokens_for_local_replication_factor: 3,
    partitioner: "org.apache.cassandra.dht.Murmur3Partitioner",
    endpoint_snitch: o.snitch,
    seed_provider: [
      {
        class_name: "org.apache.cassandra.locator.SimpleSeedProvider",
        parameters: [{ seeds: o.seeds.map((s) => `${s}:${ports.storage}`).join(",") }],
      },
    ],
    listen_address: o.address,
    rpc_address: o.address,
    storage_port: ports.storage,
    native_transport_port: ports.cql,
    start_native_transport: o.startNativeTransport ?? true,
    data_file_directories: [`${o.dataRoot}/data`],
    commitlog_directory: `${o.dataRoot}/commitlog`,
    hints_directory: `${o.dataRoot}/hints`,
    saved_caches_directory: `${o.dataRoot}/saved_caches`,
    cdc_raw_directory: `${o.dataRoot}/cdc_raw`,
    commitlog_sync: "periodic",
    commitlog_sync_period: "10000ms",
    disk_failure_policy: "stop",
    commit_failure_policy: "stop",
    // Each check is one write and one read: the reads go to disk (NVMe), the writes to memtables.
    concurrent_reads: Math.max(16, 16 * o.cores),
    concurrent_writes: Math.max(16, 8 * o.cores),
    concurrent_counter_writes: 16,
    memtable_allocation_type: "offheap_objects",
    // Experiments drop and recreate keyspaces; a snapshot per drop would only fill the disk.
    auto_snapshot: false,
    max_hint_window: `${cassandraMaxHintWindowMs}ms`,
    authenticator: o.authentication ? "PasswordAuthenticator" : "AllowAllAuthenticator",
    authorizer: o.authentication ? "CassandraAuthorizer" : "AllowAllAuthorizer",
    role_manager: "CassandraRoleManager",
    ...(o.tls ? cassandraEncryptionOptions(o.tls) : {}),
  };
  return stringify(config, { lineWidth: 0 });
}

/** cassandra-rackdc.properties of a GossipingPropertyFileSnitch node: its data centre and rack. */
export const cassandraRackDcProperties = (o: { readonly dataCenter: string; readonly rack: string }): string =>
  `dc=${o.dataCenter}\nrack=${o.rack}\n`;

/** Heap for a node with this much memory: a quarter, capped below 31 GiB to keep compressed oops. */
export const cassandraHeapMiB = (memoryGiB: number): number => Math.min(30 * 1024, Math.floor((memoryGiB * 1024) / 4));

/**
 * The module exports/opens of Cassandra's conf/jvm17-server.options: the server needs them on Java 17, and so
 * does nodetool (it loads the same classes), which the local stack runs from cassandra-all's jar.
 */
export const java17ModuleOptions: readonly string[] = (() => {
  const java17Exports = [
    "java.base/jdk.internal.misc",
    "java.management.rmi/com.sun.jmx.remote.internal.rmi",
    "java.rmi/sun.rmi.registry",
    "java.rmi/sun.rmi.server",
    "java.sql/java.sql",
    "java.base/java.lang.ref",
    "jdk.unsupported/sun.misc",
    "jdk.compiler/com.sun.tools.javac.file",
    "jdk.attach/sun.tools.attach",
  ];
  const java17Opens = [
    "java.base/java.lang.module",
    "java.base/jdk.internal.loader",
    "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect",
    "java.base/jdk.internal.math",
    "java.base/jdk.internal.module",
    "java.base/jdk.internal.util.jar",
    "jdk.management/com.sun.management.internal",
    "java.base/sun.nio.ch",
    "java.base/java.io",
    "java.base/java.lang.reflect",
    "jdk.compiler/com.sun.tools.javac",
    "java.base/java.lang",
    "java.base/java.util",
  ];
  return [
    ...java17Exports.flatMap((m) => ["--add-exports", `${m}=ALL-UNNAMED`]),
    ...java17Opens.flatMap((m) => ["--add-opens", `${m}=ALL-UNNAMED`]),
  ];
})();

/**
 * JVM options for Cassandra 5.0 on Java 17: G1 settings and the module opens/exports of Cassandra's own
 * conf/jvm17-server.options, and jamm (which Cassandra needs for memtable sizing) as an agent.
 */
export function cassandraJvmOptions(o: {
  heapMiB: number;
  jammJar: string;
  configFile: string;
  logbackFile: string;
  logDir: string;
  /** JMX for nodetool, on localhost only (Cassandra binds its local JMX server to loopback). */
  jmxLocalPort: number;
  /** Skip the 30 s gossip settle wait: right for one local node, wrong for a real cluster. */
  singleNode: boolean;
  /**
   * A shorter ring delay (the wait a joining node gives gossip before it picks tokens and streams): on
   * loopback gossip reaches every node in well under a second, so the 30 s default only slows each join.
   */
  ringDelayMs?: number;
  /** GossipingPropertyFileSnitch's data centre and rack file (cassandraRackDcProperties). */
  rackDcFile?: string;
}): string[] {
  return [
    `-Xms${o.heapMiB}m`,
    `-Xmx${o.heapMiB}m`,
    "-Xss256k",
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:G1HeapRegionSize=16m",
    "-XX:G1RSetUpdatingPauseTimePercent=5",
    "-XX:MaxGCPauseMillis=300",
    "-XX:InitiatingHeapOccupancyPercent=70",
    "-XX:+HeapDumpOnOutOfMemoryError",
    "-XX:+PerfDisableSharedMem",
    "-Djava.net.preferIPv4Stack=true",
    "-Djdk.attach.allowAttachSelf=true",
    ...java17ModuleOptions,
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
    `-javaagent:${o.jammJar}`,
    `-Dcassandra.config=file://${o.configFile}`,
    `-Dlogback.configurationFile=${o.logbackFile}`,
    `-Dcassandra.logdir=${o.logDir}`,
    "-Dcassandra-foreground=yes",
    // Without it Cassandra starts no JMX server at all and nodetool cannot connect.
    `-Dcassandra.jmx.local.port=${o.jmxLocalPort}`,
    ...(o.singleNode ? ["-Dcassandra.skip_wait_for_gossip_to_settle=0", "-Dcassandra.ring_delay_ms=0"] : []),
    ...(!o.singleNode && o.ringDelayMs !== undefined ? [`-Dcassandra.ring_delay_ms=${o.ringDelayMs}`] : []),
    ...(o.rackDcFile === undefined ? [] : [`-Dcassandra-rackdc.properties=file://${o.rackDcFile}`]),
  ];
}

/** Logging to a rolling file only: the server runs detached, and the console is not read. */
export function cassandraLogbackXml(logDir: string): string {
  return `<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>${logDir}/system.log</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.FixedWindowRollingPolicy">
      <fileNamePattern>${logDir}/system.log.%i.zip</fileNamePattern>
      <minIndex>1</minIndex><maxIndex>3</maxIndex>
    </rollingPolicy>
    <triggeringPolicy class="ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy"><maxFileSize>20MB</maxFileSize></triggeringPolicy>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
`;
}
