/**
 * A local Cassandra node as a server: its config files rendered by cdk/servers (the module the cloud uses),
 * its JVM command line (with the JMX exporter agent when asked), the probe that says when it answers CQL, and
 * starting and stopping one node on its own (a test's node, a member of the local cluster).
 *
 * With `authentication` it runs PasswordAuthenticator and CassandraAuthorizer as in the cloud, its roles set up
 * the moment its CQL port opens; with `tls` it requires TLS for clients and between nodes
 * (cassandra-security.ts makes both).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import cassandra from "cassandra-driver";
import { cassandraJvmOptions, cassandraLogbackXml, cassandraRackDcProperties, cassandraYaml } from "../../cdk/servers/cassandra-config.ts";
import { jmxExporterConfig } from "../../cdk/servers/cassandra-exporter.ts";
import { cassandraPorts } from "../../cdk/servers/ports.ts";
import { cassandraVersion } from "../../cdk/versions.ts";
import { cassandraAddress, cassandraDataCenter, type LocalCassandra } from "./cassandra-node.ts";
import { cassandraTlsPaths, makeCassandraCertificates, setUpCassandraAuth } from "./cassandra-security.ts";
import type { LocalServer } from "./local-server.ts";
import { localEndpoints, localHost } from "./locations.ts";
import { cassandraClasspath, jmxExporterJar } from "./maven-classpath.ts";
import { StackError } from "./stack-messages.ts";
import { runningPid, startServers, stopServers } from "./supervision.ts";

/** Sized for a 2-core, 24 GiB machine that also runs Kafka, the detector and the load generator. */
const localSizing = { cassandraHeapMiB: 1536, cassandraCores: 2 } as const;
const mainClass = "org.apache.cassandra.service.CassandraDaemon";

/** A node that asks for a login (an authenticated node probed without one) did answer CQL. */
const demandsLogin = (err: unknown): boolean =>
  err instanceof cassandra.errors.NoHostAvailableError &&
  Object.values(err.innerErrors as Record<string, unknown>).some((e) => e instanceof cassandra.errors.AuthenticationError);

/** Whether a node answers CQL; `caFile`: the CA of a TLS node, whose CQL port speaks nothing but TLS. */
export async function cassandraAnswers(
  port: number = cassandraPorts.cql,
  caFile?: string,
  host: string = localHost,
  dataCenter: string = localEndpoints.cassandraLocalDataCenter,
): Promise<boolean> {
  const client = new cassandra.Client({
    contactPoints: [`${host}:${port}`],
    localDataCenter: dataCenter,
    socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
    ...(caFile === undefined ? {} : { sslOptions: { ca: [readFileSync(caFile, "utf8")], rejectUnauthorized: true } }),
  });
  try {
    await client.connect();
    const rs = await client.execute("SELECT release_version FROM system.local");
    return rs.rows.length === 1;
  } catch (err) {
    return demandsLogin(err);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** Writes the node's config files and returns java's arguments. */
function cassandraJavaCommand(c: LocalCassandra, classpath: string): string[] {
  const logDir = join(c.dir, "logs");
  mkdirSync(logDir, { recursive: true });
  const config = join(c.dir, "cassandra.yaml");
  const logback = join(c.dir, "logback.xml");
  const member = c.member;
  const rackDcFile = join(c.dir, "cassandra-rackdc.properties");
  if (member) writeFileSync(rackDcFile, cassandraRackDcProperties({ dataCenter: member.dataCenter, rack: member.rack }));
  writeFileSync(
    config,
    cassandraYaml({
      clusterName: c.clusterName,
      address: cassandraAddress(c),
      seeds: member?.seeds ?? [localHost],
      dataRoot: join(c.dir, "data"),
      snitch: member ? "GossipingPropertyFileSnitch" : "SimpleSnitch",
      cores: localSizing.cassandraCores,
      authentication: c.authentication,
      ports: c.ports,
      ...(c.tls === true ? { tls: cassandraTlsPaths(c).node } : {}),
    }),
  );
  writeFileSync(logback, cassandraLogbackXml(logDir));
  const jammJar = classpath.split(":").find((jar) => /\/jamm-[\d.]+\.jar$/.test(jar));
  if (!jammJar) throw new StackError("the jamm jar is missing from Cassandra's classpath");
  const jvm = cassandraJvmOptions({
    heapMiB: member?.heapMiB ?? localSizing.cassandraHeapMiB,
    jammJar,
    configFile: config,
    logbackFile: logback,
    logDir,
    jmxLocalPort: c.ports.jmx,
    singleNode: member === undefined,
    ...(member ? { ringDelayMs: member.ringDelayMs, rackDcFile } : {}),
  });
  const exporter: string[] = [];
  if (c.exporterPort !== undefined) {
    const exporterConfig = join(c.dir, "jmx-exporter.yaml");
    writeFileSync(exporterConfig, jmxExporterConfig);
    exporter.push(`-javaagent:${jmxExporterJar()}=${localHost}:${c.exporterPort}:${exporterConfig}`);
  }
  return [...jvm, ...exporter, "-cp", classpath, mainClass];
}

/** Whether the node in this state dir was last configured with password authentication. */
const configuredWithAuth = (c: LocalCassandra): boolean => {
  const config = join(c.dir, "cassandra.yaml");
  return existsSync(config) && /^authenticator: PasswordAuthenticator$/m.test(readFileSync(config, "utf8"));
};
/** Whether it was last configured to require TLS from clients. */
const configuredWithTls = (c: LocalCassandra): boolean => {
  const config = join(c.dir, "cassandra.yaml");
  return existsSync(config) && /^client_encryption_options:\n {2}enabled: true$/m.test(readFileSync(config, "utf8"));
};

/** The node `c` as supervision.ts starts, probes and stops it. */
export function cassandraServer(c: LocalCassandra): LocalServer {
  const label = `Cassandra ${cassandraVersion}`;
  const port = c.ports.cql;
  const host = cassandraAddress(c);
  return {
    name: "cassandra",
    label,
    port,
    host,
    dir: c.dir,
    mainClass,
    alreadyRunning: (pid) => {
      if (c.authentication && !configuredWithAuth(c)) {
        throw new StackError(
          `${label} (pid ${pid}) on ${localHost}:${port} runs without authentication: stop it (npm run stack -- stop) and start it again with --auth`,
        );
      }
      if (c.tls === true && !configuredWithTls(c)) {
        throw new StackError(
          `${label} (pid ${pid}) on ${localHost}:${port} runs without TLS: stop it (npm run stack -- stop) and start it again with --tls`,
        );
      }
      const secured = [configuredWithAuth(c) ? "authentication" : "", configuredWithTls(c) ? "TLS" : ""].filter(Boolean).join(" and ");
      return secured === "" ? "" : ` with ${secured}`;
    },
    javaCommand: () => {
      if (c.tls === true) {
        if (!c.authentication) throw new StackError(`${label} in ${c.dir}: TLS needs authentication as well (the cloud has both)`);
        makeCassandraCertificates(c);
      }
      return cassandraJavaCommand(c, cassandraClasspath());
    },
    answers: () => cassandraAnswers(port, c.tls === true ? cassandraTlsPaths(c).node.truststore : undefined, host, cassandraDataCenter(c)),
    // As in the cloud: the set-up starts the moment the CQL port opens, before the default superuser exists.
    ...(c.authentication
      ? {
          whenPortOpens: async () => {
            await setUpCassandraAuth(c);
          },
        }
      : {}),
  };
}

/** Starts one local Cassandra node (idempotent); what a test calls for a node of its own beside the shared one. */
export async function startLocalCassandra(c: LocalCassandra): Promise<boolean> {
  return (await startServers([cassandraServer(c)])).length > 0;
}

/** Stops one local Cassandra node started by startLocalCassandra, and only that one. */
export const stopLocalCassandra = (c: LocalCassandra): Promise<void> => stopServers([cassandraServer(c)]);

/** Kills one local Cassandra node at once (SIGKILL: a crash, no drain or flush) and waits until it is gone. */
export const killLocalCassandra = (c: LocalCassandra): Promise<void> => stopServers([cassandraServer(c)], "SIGKILL");

/** The PID of a local Cassandra node if it runs (and is ours), else null. */
export const localCassandraPid = (c: LocalCassandra): number | null => runningPid(cassandraServer(c));
