/**
 * The local stack: one Apache Kafka broker (KRaft) and one Apache Cassandra node on loopback, resolved from
 * Maven Central by scripts/local/pom.xml and configured by cdk/servers (the same module the cloud uses).
 * State lives under .local/ (git-ignored). Processes are tracked by PID file, never found by name.
 *
 * Cassandra can also run authenticated (`start --auth`): PasswordAuthenticator and CassandraAuthorizer as in
 * the cloud, and the cloud's own set-up script (cdk/servers/cassandra-auth-setup.sh) run the moment its CQL
 * port opens. With TLS (`start --tls`, which implies --auth) it also requires TLS for clients and between
 * nodes, with a CA and a certificate made by the cloud's own script (cdk/servers/cassandra-tls.sh) and the
 * cloud's cassandra.yaml encryption options. A Cassandra node is described by a LocalCassandra (state dir,
 * ports, auth, TLS, exporter), so a test can start a second, isolated node beside the shared one with the
 * same code.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import cassandra from "cassandra-driver";
import { Kafka, logLevel, type Admin } from "kafkajs";
import {
  cassandraAdminRole,
  cassandraAuthSetupEnv,
  cassandraAuthSetupScriptPath,
  cassandraDetectorRole,
} from "../../cdk/servers/cassandra-auth-setup.ts";
import {
  cassandraJvmOptions,
  cassandraLogbackXml,
  cassandraRackDcProperties,
  cassandraYaml,
  java17ModuleOptions,
} from "../../cdk/servers/cassandra-config.ts";
import { jmxExporterConfig, jmxExporterVersion } from "../../cdk/servers/cassandra-exporter.ts";
import { caFiles, cassandraTlsScriptPath, nodeTlsFiles, type CassandraTlsFiles } from "../../cdk/servers/cassandra-tls.ts";
import { localBrokerJvmOptions, localBrokerProperties, log4jProperties } from "../../cdk/servers/kafka-config.ts";
import { cassandraPorts, kafkaPorts } from "../../cdk/servers/ports.ts";
import { cassandraVersion, kafkaVersion, minimumJavaVersion } from "../../cdk/versions.ts";
import { waitFor, WaitTimeoutError } from "../../app/retry.ts";
import { formatKafkaStorage, newKafkaClusterId } from "./kafka-storage.ts";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const localHost = "127.0.0.1";
/** Overridable so tests can run a second, isolated state directory against the same ports. */
export const stateRoot = process.env.LOCAL_STACK_DIR ?? join(projectRoot, ".local");
/** Held by the one start in progress per state root: it holds the starter's PID. */
export const startLockFile = join(stateRoot, "start.lock");
const pomFile = join(projectRoot, "scripts", "local", "pom.xml");

/** Where clients reach the local servers. */
export const localEndpoints = {
  kafkaBrokers: `${localHost}:${kafkaPorts.localClient}`,
  cassandraContactPoints: `${localHost}:${cassandraPorts.cql}`,
  /** SimpleSnitch's data centre name. */
  cassandraLocalDataCenter: "datacenter1",
} as const;

/** Sized for a 2-core, 24 GiB machine that also runs the detector and the load generator. */
const localSizing = { kafkaHeapMiB: 512, cassandraHeapMiB: 1536, cassandraCores: 2 } as const;
const readyTimeoutMs = 240_000;
/** Bound of the auth set-up script locally: the default superuser appears ~10 s after the port opens. */
const authSetupWaitSeconds = 180;

export class StackError extends Error {
  override name = "StackError";
}

/** One local Cassandra node: where its state lives, its ports, and how it is secured and observed. */
export interface LocalCassandra {
  readonly dir: string;
  readonly clusterName: string;
  readonly ports: { readonly cql: number; readonly storage: number; readonly jmx: number };
  /** PasswordAuthenticator + CassandraAuthorizer, roles made by cdk/servers/cassandra-auth-setup.sh. */
  readonly authentication: boolean;
  /** The Prometheus JMX exporter agent on this loopback port, with the cloud's exporter config. */
  readonly exporterPort?: number;
  /** TLS required for clients and between nodes, as in the cloud (needs `authentication`, as the cloud has). */
  readonly tls?: boolean;
  /** A node of a local multi-node cluster (scripts/local/local-cluster.ts); none: a single node on localHost. */
  readonly member?: CassandraClusterMember;
}

/** Where a node of a local multi-node cluster sits: its own loopback address, its seeds, data centre and rack. */
export interface CassandraClusterMember {
  readonly address: string;
  readonly seeds: readonly string[];
  readonly dataCenter: string;
  readonly rack: string;
  readonly heapMiB: number;
  /** See cassandraJvmOptions' ringDelayMs. */
  readonly ringDelayMs: number;
}

/** The address a node's CQL and storage listen on, and its data centre (what a client must name). */
export const cassandraAddress = (c: LocalCassandra): string => c.member?.address ?? localHost;
const cassandraDataCenter = (c: LocalCassandra): string => c.member?.dataCenter ?? localEndpoints.cassandraLocalDataCenter;

/** A TLS node's CA (made once in its state dir) and its own PEM key + certificate, by cassandra-tls.sh. */
export const cassandraTlsPaths = (c: LocalCassandra): { readonly ca: ReturnType<typeof caFiles>; readonly node: CassandraTlsFiles } => ({
  ca: caFiles(join(c.dir, "tls", "ca")),
  node: nodeTlsFiles(join(c.dir, "tls", "node")),
});

/** Makes the node's CA and certificate with the cloud's script (each only once: a restart keeps them). */
function makeCassandraCertificates(c: LocalCassandra): void {
  const paths = cassandraTlsPaths(c);
  const run = (args: string[]) => {
    const r = spawnSync("bash", [cassandraTlsScriptPath, ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new StackError(`cassandra-tls.sh ${args[0] ?? ""} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`.trimEnd());
  };
  mkdirSync(join(c.dir, "tls"), { recursive: true, mode: 0o700 });
  run(["ca", dirname(paths.ca.bundle), c.clusterName]);
  if (!existsSync(paths.node.keystore)) run(["node", paths.ca.bundle, localHost, dirname(paths.node.keystore)]);
}

/** The shared local node on the standard ports, without authentication unless started with --auth. */
export const localCassandra: LocalCassandra = {
  dir: join(stateRoot, "cassandra"),
  clusterName: "local",
  ports: { cql: cassandraPorts.cql, storage: cassandraPorts.storage, jmx: cassandraPorts.jmx },
  authentication: false,
};

interface Server {
  readonly name: "kafka" | "cassandra";
  readonly label: string;
  readonly version: string;
  readonly port: number;
  /** The address its client port listens on. */
  readonly host: string;
  readonly dir: string;
  readonly mainClass: string;
  readonly cassandra?: LocalCassandra;
}

const cassandraServer = (c: LocalCassandra): Server => ({
  name: "cassandra",
  label: `Cassandra ${cassandraVersion}`,
  version: cassandraVersion,
  port: c.ports.cql,
  host: cassandraAddress(c),
  dir: c.dir,
  mainClass: "org.apache.cassandra.service.CassandraDaemon",
  cassandra: c,
});

const servers: readonly Server[] = [
  {
    name: "kafka",
    label: `Kafka ${kafkaVersion}`,
    version: kafkaVersion,
    port: kafkaPorts.localClient,
    host: localHost,
    dir: join(stateRoot, "kafka"),
    mainClass: "kafka.Kafka",
  },
  cassandraServer(localCassandra),
];

const log = (msg: string) => process.stderr.write(`stack: ${msg}\n`);

// ---------- environment checks ----------

/** Parses the feature release from `java -version` ("1.8.0_x" → 8, "17.0.15" → 17). */
export function javaMajorVersion(versionOutput: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return null;
  const first = Number(m[1]);
  return first === 1 ? Number(m[2]) : first;
}

function checkTools(): void {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error) {
    throw new StackError(`java not found: install a JDK ${minimumJavaVersion} or newer (Debian: apt-get install openjdk-17-jdk-headless)`);
  }
  const major = javaMajorVersion(`${java.stderr}${java.stdout}`);
  if (major === null || major < minimumJavaVersion) {
    throw new StackError(
      `java ${major ?? "of unknown version"} is too old: Kafka ${kafkaVersion} and Cassandra ${cassandraVersion} need Java ${minimumJavaVersion}+; install openjdk-17-jdk-headless and put it first on PATH`,
    );
  }
  if (spawnSync("mvn", ["-v"], { encoding: "utf8" }).error) {
    throw new StackError("mvn not found: install Apache Maven 3.8+ (Debian: apt-get install maven); it fetches the servers from Maven Central");
  }
}

// ---------- processes ----------

const pidFile = (s: Server) => join(s.dir, `${s.name}.pid`);

/** The PID of our server if it is alive and is really ours (its command line names our config dir). */
function runningPid(s: Server): number | null {
  if (!existsSync(pidFile(s))) return null;
  const pid = Number(readFileSync(pidFile(s), "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(s.mainClass) && cmdline.includes(s.dir) ? pid : null;
  } catch {
    return null;
  }
}

function portAnswers(port: number, host = localHost): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      done(false);
    });
  });
}

/**
 * The classpath of one profile of scripts/local/pom.xml, resolved once (Maven takes ~20 s even from
 * ~/.m2) into a cache shared by every node of this state root, a test's second Cassandra included.
 */
function mavenClasspath(profile: "kafka" | "cassandra" | "jmx-exporter", version: string, label: string): string {
  const cache = join(stateRoot, "classpath");
  mkdirSync(cache, { recursive: true });
  const file = join(cache, `${profile}-${version}.txt`);
  if (!existsSync(file)) {
    log(`resolving ${label} from Maven Central (cached in ~/.m2 after the first time)…`);
    const started = Date.now();
    const mvn = spawnSync(
      "mvn",
      ["-q", "-B", "-f", pomFile, `-P${profile}`, `-D${profile}.version=${version}`, `-Dclasspath.file=${file}`, "generate-resources"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    if (mvn.status !== 0 || !existsSync(file)) {
      throw new StackError(`could not resolve ${label} with Maven:\n${mvn.stdout}${mvn.stderr}`.trimEnd());
    }
    log(`resolved ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return readFileSync(file, "utf8").trim();
}

const resolveClasspath = (s: Server): string => mavenClasspath(s.name, s.version, s.label);

/** Kafka's jars (clients and compression codecs included), for tests that run Kafka's own Java clients. */
export const kafkaClasspath = (): string => mavenClasspath("kafka", kafkaVersion, `Kafka ${kafkaVersion}`);

/** The JMX exporter agent jar, the same version (and so the same pinned bytes) as the cloud nodes run. */
export const jmxExporterJar = (): string => mavenClasspath("jmx-exporter", jmxExporterVersion, `JMX exporter ${jmxExporterVersion}`);

function javaCommandFor(s: Server, classpath: string): string[] {
  const logDir = join(s.dir, "logs");
  mkdirSync(logDir, { recursive: true });
  if (s.name === "kafka") {
    const config = join(s.dir, "server.properties");
    const log4j = join(s.dir, "log4j.properties");
    const dataDir = join(s.dir, "data");
    writeFileSync(config, localBrokerProperties({ logDir: dataDir, host: localHost }));
    writeFileSync(log4j, log4jProperties(join(logDir, "server.log")));
    const jvm = localBrokerJvmOptions({ heapMiB: localSizing.kafkaHeapMiB, logDir, log4jConfig: log4j });
    if (!existsSync(join(dataDir, "meta.properties"))) {
      // KRaft needs its storage formatted once with a cluster id (22-char URL-safe base64 UUID).
      const failure = formatKafkaStorage({ jvm, classpath, config, clusterId: newKafkaClusterId() });
      if (failure !== null) throw new StackError(`formatting Kafka storage in ${dataDir} failed:\n${failure}`);
    }
    return [...jvm, "-cp", classpath, s.mainClass, config];
  }
  const c = s.cassandra ?? localCassandra;
  const config = join(s.dir, "cassandra.yaml");
  const logback = join(s.dir, "logback.xml");
  const member = c.member;
  const rackDcFile = join(s.dir, "cassandra-rackdc.properties");
  if (member) writeFileSync(rackDcFile, cassandraRackDcProperties({ dataCenter: member.dataCenter, rack: member.rack }));
  writeFileSync(
    config,
    cassandraYaml({
      clusterName: c.clusterName,
      address: cassandraAddress(c),
      seeds: member?.seeds ?? [localHost],
      dataRoot: join(s.dir, "data"),
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
    const exporterConfig = join(s.dir, "jmx-exporter.yaml");
    writeFileSync(exporterConfig, jmxExporterConfig);
    exporter.push(`-javaagent:${jmxExporterJar()}=${localHost}:${c.exporterPort}:${exporterConfig}`);
  }
  return [...jvm, ...exporter, "-cp", classpath, s.mainClass];
}

function launch(s: Server, args: string[]): number {
  const out = openSync(join(s.dir, "logs", "console.log"), "a");
  // Detached into its own session so it outlives this command and a Ctrl-C here does not reach it.
  const child = spawn("java", args, { cwd: s.dir, detached: true, stdio: ["ignore", out, out] });
  if (child.pid === undefined) throw new StackError(`could not start java for ${s.label}`);
  child.unref();
  writeFileSync(pidFile(s), `${child.pid}\n`);
  return child.pid;
}

// ---------- readiness ----------

/** A probe's bound: a broker still starting accepts the connection but may not answer for minutes. */
const kafkaProbeTimeoutMs = 5_000;

/** The cluster as `brokers` describe it, or null when none answers in time (a readiness probe). */
export async function describeKafka(brokers: readonly string[], clientId: string): Promise<Awaited<ReturnType<Admin["describeCluster"]>> | null> {
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

async function kafkaAnswers(): Promise<boolean> {
  const cluster = await describeKafka([localEndpoints.kafkaBrokers], "stack-probe");
  return cluster !== null && cluster.brokers.length > 0 && cluster.controller !== null;
}

/** A node that asks for a login (an authenticated node probed without one) did answer CQL. */
const demandsLogin = (err: unknown): boolean =>
  err instanceof cassandra.errors.NoHostAvailableError &&
  Object.values(err.innerErrors as Record<string, unknown>).some((e) => e instanceof cassandra.errors.AuthenticationError);

/** `caFile`: the CA of a TLS node, whose CQL port speaks nothing but TLS. */
async function cassandraAnswers(
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

const answers = (s: Server) =>
  s.name === "kafka"
    ? kafkaAnswers()
    : cassandraAnswers(
        s.port,
        s.cassandra?.tls === true ? cassandraTlsPaths(s.cassandra).node.truststore : undefined,
        s.host,
        s.cassandra ? cassandraDataCenter(s.cassandra) : undefined,
      );

function logTail(s: Server, lines = 25): string {
  for (const file of ["system.log", "server.log", "console.log"]) {
    const path = join(s.dir, "logs", file);
    if (existsSync(path)) return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  }
  return "(no log)";
}

/** Waits until `ready` holds, failing at once if the server's process exits. */
async function waitReady(s: Server, pid: number, ready: () => Promise<boolean> = () => answers(s)): Promise<void> {
  let lastReport = 0;
  try {
    await waitFor(
      async () => {
        if (runningPid(s) !== pid) {
          rmSync(pidFile(s), { force: true });
          throw new StackError(`${s.label} exited during start-up; last log lines (${s.dir}/logs):\n${logTail(s)}`);
        }
        return ready();
      },
      {
        what: `${s.label} (pid ${pid}) to answer`,
        timeoutMs: readyTimeoutMs,
        intervalMs: 1000,
        onWait: (waited) => {
          if (waited - lastReport < 15_000) return;
          log(`waiting for ${s.label} (pid ${pid}) to answer… ${Math.round(waited / 1000)} s`);
          lastReport = waited;
        },
      },
    );
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new StackError(`${s.label} did not answer within ${readyTimeoutMs / 1000} s; see ${s.dir}/logs`);
    throw err;
  }
}

// ---------- authentication (the cloud's set-up script, run locally) ----------

/** An authenticated node's role passwords, one per file (mode 0600, in a 0700 folder of its state dir). */
export const cassandraPasswordFiles = (c: LocalCassandra) => ({
  admin: join(c.dir, "auth", "admin-password"),
  detector: join(c.dir, "auth", "detector-password"),
});

/** The PyPI cqlsh the test command installs (cassandra-all from Maven has none). */
const localCqlsh = join(projectRoot, ".tools", "py", "bin", "cqlsh");

/** A fresh random password, written once: a rerun of the set-up keeps the roles' passwords. */
function writePasswordOnce(file: string): void {
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
}

/**
 * nodetool for a local node: cassandra-all has the NodeTool class but no launcher script, so a small one
 * runs it on Cassandra's classpath against the node's loopback JMX port, logging warnings only.
 */
function writeNodetool(c: LocalCassandra, classpath: string): string {
  const authDir = join(c.dir, "auth");
  const logback = join(authDir, "logback-tools.xml");
  writeFileSync(
    logback,
    `<configuration><appender name="E" class="ch.qos.logback.core.ConsoleAppender"><target>System.err</target>` +
      `<encoder><pattern>%-5level %msg%n</pattern></encoder></appender><root level="WARN"><appender-ref ref="E"/></root></configuration>\n`,
  );
  const classpathFile = join(authDir, "nodetool.classpath");
  writeFileSync(classpathFile, `${classpath}\n`);
  const wrapper = join(authDir, "nodetool");
  writeFileSync(
    wrapper,
    `#!/bin/sh\n# nodetool of the local Cassandra in ${c.dir} (generated by scripts/local/stack-control.ts)\n` +
      `exec java ${java17ModuleOptions.join(" ")} -Dlogback.configurationFile=${logback} -cp "$(cat ${classpathFile})" org.apache.cassandra.tools.NodeTool ` +
      `-h ${localHost} -p ${c.ports.jmx} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/**
 * Runs nodetool against a running local node (its JMX port) and returns what it printed; throws with the
 * output when nodetool fails. For the operations the fault campaign needs: hint window, repair.
 */
export async function nodetool(c: LocalCassandra, args: readonly string[]): Promise<string> {
  mkdirSync(join(c.dir, "auth"), { recursive: true, mode: 0o700 });
  const wrapper = writeNodetool(c, resolveClasspath(cassandraServer(c)));
  const child = spawn(wrapper, [...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
  const code = await new Promise<number | null>((done) => child.once("close", done));
  const printed = output.join("");
  if (code !== 0) throw new StackError(`nodetool ${args.join(" ")} on ${cassandraAddress(c)} failed (exit ${code}):\n${printed.trimEnd()}`);
  return printed;
}

/**
 * Runs cdk/servers/cassandra-auth-setup.sh against a local node, the same script node 0 runs in EC2: it waits
 * (bounded) for the default superuser, creates admin and detector, disables cassandra, repairs system_auth.
 * Idempotent. Returns what the script printed (also appended to auth/setup.log).
 */
export async function setUpCassandraAuth(c: LocalCassandra): Promise<string> {
  const files = cassandraPasswordFiles(c);
  const authDir = join(c.dir, "auth");
  mkdirSync(authDir, { recursive: true, mode: 0o700 });
  chmodSync(authDir, 0o700);
  writePasswordOnce(files.admin);
  writePasswordOnce(files.detector);
  const tools = spawnSync("bash", [join(projectRoot, "scripts", "python-tools.sh")], { encoding: "utf8" });
  if (tools.status !== 0 || !existsSync(localCqlsh)) {
    throw new StackError(`cqlsh is missing (${localCqlsh}); scripts/python-tools.sh said:\n${tools.stderr}`.trimEnd());
  }
  const env = cassandraAuthSetupEnv({
    host: localHost,
    cqlPort: c.ports.cql,
    cqlsh: localCqlsh,
    nodetool: writeNodetool(c, resolveClasspath(cassandraServer(c))),
    adminPasswordFile: files.admin,
    detectorPasswordFile: files.detector,
    detectorRole: cassandraDetectorRole,
    datacenter: localEndpoints.cassandraLocalDataCenter,
    // One local node: system_auth can have one replica; the repair then has nothing to copy, but runs.
    replicationFactor: 1,
    waitSeconds: authSetupWaitSeconds,
    ...(c.tls === true ? { caFile: cassandraTlsPaths(c).node.truststore } : {}),
  });
  const started = Date.now();
  const output: string[] = [];
  // cqlsh keeps its history and settings under HOME/.cassandra: the node's own auth dir, not the user's.
  const child = spawn("bash", [cassandraAuthSetupScriptPath], { env: { ...process.env, ...env, HOME: authDir }, stdio: ["ignore", "pipe", "pipe"] });
  const collect = (chunk: Buffer) => output.push(chunk.toString("utf8"));
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const code = await new Promise<number | null>((done) => child.once("close", done));
  const printed = output.join("");
  appendFileSync(join(authDir, "setup.log"), printed);
  if (code !== 0) {
    throw new StackError(`Cassandra auth set-up on ${localHost}:${c.ports.cql} failed (exit ${code}):\n${printed.trimEnd()}`);
  }
  log(`authentication set up on ${localHost}:${c.ports.cql} in ${((Date.now() - started) / 1000).toFixed(1)} s (roles ${cassandraAdminRole}, ${cassandraDetectorRole}; passwords in ${authDir})`);
  return printed;
}

/** Whether the node in this state dir was last configured with password authentication. */
const configuredWithAuth = (s: Server): boolean => {
  const config = join(s.dir, "cassandra.yaml");
  return existsSync(config) && /^authenticator: PasswordAuthenticator$/m.test(readFileSync(config, "utf8"));
};
/** Whether it was last configured to require TLS from clients. */
const configuredWithTls = (s: Server): boolean => {
  const config = join(s.dir, "cassandra.yaml");
  return existsSync(config) && /^client_encryption_options:\n {2}enabled: true$/m.test(readFileSync(config, "utf8"));
};

// ---------- commands ----------

export interface ServerStatus {
  readonly name: Server["name"];
  readonly label: string;
  readonly pid: number | null;
  readonly address: string;
  readonly answering: boolean;
}

export async function stackStatus(): Promise<ServerStatus[]> {
  return Promise.all(
    servers.map(async (s) => {
      const pid = runningPid(s);
      return { name: s.name, label: s.label, pid, address: `${localHost}:${s.port}`, answering: pid !== null && (await answers(s)) };
    }),
  );
}

/** True when both servers answer on our endpoints, whoever started them (another checkout, say). */
export async function endpointsAnswer(): Promise<boolean> {
  const [kafka, cassandra] = await Promise.all([kafkaAnswers(), cassandraAnswers()]);
  return kafka && cassandra;
}

/**
 * What the tools call before a run: use the servers answering on our endpoints, whoever started them (this
 * checkout or another), or start ours. Returns the names of the servers this call started.
 */
export async function ensureStack(): Promise<Server["name"][]> {
  const ours = (await stackStatus()).every((s) => s.pid !== null);
  if (!ours && (await endpointsAnswer())) {
    log(`using the Kafka and Cassandra already answering on ${localEndpoints.kafkaBrokers} and ${localEndpoints.cassandraContactPoints} (started elsewhere)`);
    return [];
  }
  return startStack();
}

/**
 * Starts whatever of the stack is not running and waits until both servers answer.
 * Returns the names of the servers this call started (so a caller can stop exactly those).
 * `auth`: Cassandra with password authentication, set up by the cloud's script (see setUpCassandraAuth).
 * `tls`: Cassandra requiring TLS as in the cloud (implies `auth`; certificates by cdk/servers/cassandra-tls.sh).
 */
export async function startStack(options: { auth?: boolean; tls?: boolean } = {}): Promise<Server["name"][]> {
  const tls = options.tls ?? false;
  const cassandraNode = cassandraServer({ ...localCassandra, authentication: tls || (options.auth ?? false), tls });
  const started = await startServers([servers[0]!, cassandraNode]);
  return started.map((s) => s.name);
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

/**
 * One start at a time per state root. Two callers starting at once (two test runs, or a test run and
 * `npm run stack -- start`) would both launch a server; the loser's PID file replaced the winner's and the
 * running server was left without one (then "taken by a process that is not ours"). The lock file holds the
 * starter's PID, so a lock left by a killed starter is recognised as stale and taken over.
 */
async function withStartLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(stateRoot, { recursive: true });
  const lock = startLockFile;
  let announced = false;
  const holdMs = 15 * 60_000;
  const taken = () => {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(readFileSync(lock, "utf8").trim());
    if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder)) {
      rmSync(lock, { force: true }); // stale: its starter is gone; the next probe takes it
      return false;
    }
    if (!announced) log(`another start of the local stack (pid ${holder}) is in progress; waiting for it`);
    announced = true;
    return false;
  };
  try {
    await waitFor(taken, { what: `another start of the local stack to release ${lock}`, timeoutMs: holdMs, intervalMs: 500 });
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new StackError(`another start of the local stack has held ${lock} for 15 minutes`);
    throw err;
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function startServers(list: readonly Server[]): Promise<Server[]> {
  return withStartLock(() => startServersNow(list));
}

async function startServersNow(list: readonly Server[]): Promise<Server[]> {
  checkTools();
  const started: { server: Server; pid: number }[] = [];
  for (const s of list) {
    mkdirSync(s.dir, { recursive: true });
    const pid = runningPid(s);
    if (pid !== null) {
      if (s.cassandra?.authentication === true && !configuredWithAuth(s)) {
        throw new StackError(
          `${s.label} (pid ${pid}) on ${localHost}:${s.port} runs without authentication: stop it (npm run stack -- stop) and start it again with --auth`,
        );
      }
      if (s.cassandra?.tls === true && !configuredWithTls(s)) {
        throw new StackError(`${s.label} (pid ${pid}) on ${localHost}:${s.port} runs without TLS: stop it (npm run stack -- stop) and start it again with --tls`);
      }
      const secured = [configuredWithAuth(s) ? "authentication" : "", configuredWithTls(s) ? "TLS" : ""].filter(Boolean).join(" and ");
      log(`${s.label} already running (pid ${pid}) on ${s.host}:${s.port}${secured === "" ? "" : ` with ${secured}`}`);
      continue;
    }
    if (await portAnswers(s.port, s.host)) {
      throw new StackError(
        `port ${s.port} on ${s.host} is taken by a process that is not our ${s.label}: stop it (see: ss -ltnp 'sport = :${s.port}') and start again`,
      );
    }
    if (s.cassandra?.tls === true) {
      if (!s.cassandra.authentication) throw new StackError(`${s.label} in ${s.dir}: TLS needs authentication as well (the cloud has both)`);
      makeCassandraCertificates(s.cassandra);
    }
    const classpath = resolveClasspath(s);
    const newPid = launch(s, javaCommandFor(s, classpath));
    log(`starting ${s.label} (pid ${newPid}) on ${s.host}:${s.port}, logs in ${join(s.dir, "logs")}`);
    started.push({ server: s, pid: newPid });
  }
  const t0 = Date.now();
  const ready = async ({ server, pid }: { server: Server; pid: number }) => {
    if (server.cassandra?.authentication === true) {
      // As in the cloud: the set-up starts the moment the CQL port opens, before the default superuser exists.
      await waitReady(server, pid, () => portAnswers(server.port, server.host));
      await setUpCassandraAuth(server.cassandra);
    }
    await waitReady(server, pid);
  };
  try {
    await Promise.all(started.map(ready));
  } catch (err) {
    await stopServers(started.map(({ server }) => server));
    throw err;
  }
  for (const { server } of started) {
    log(`${server.label} ready on ${server.host}:${server.port} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return started.map(({ server }) => server);
}

/** Stops our servers (all, or the named ones): SIGTERM, then SIGKILL after a grace period. */
export async function stopStack(names: readonly Server["name"][] = servers.map((s) => s.name)): Promise<void> {
  await stopServers(servers.filter((s) => names.includes(s.name)));
}

async function stopServers(list: readonly Server[], signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  await Promise.all(
    list.map(async (s) => {
      const pid = runningPid(s);
      if (pid === null) {
        rmSync(pidFile(s), { force: true });
        return;
      }
      // Negative PID: the whole process group the detached server leads.
      process.kill(-pid, signal);
      const gone = () => runningPid(s) !== pid;
      try {
        await waitFor(gone, { what: `${s.label} (pid ${pid}) to stop`, timeoutMs: 60_000 });
      } catch (err) {
        if (!(err instanceof WaitTimeoutError)) throw err;
        log(`${s.label} (pid ${pid}) did not stop in 60 s; killing it`);
        process.kill(-pid, "SIGKILL");
        await waitFor(gone, { what: `${s.label} (pid ${pid}) to die of SIGKILL`, timeoutMs: 60_000, intervalMs: 100 });
      }
      rmSync(pidFile(s), { force: true });
      log(`stopped ${s.label} (pid ${pid})`);
    }),
  );
}

/** Deletes the local servers' data and Cassandra's role passwords (not the cached artifacts); the stack must be stopped. */
export async function resetStack(): Promise<void> {
  const running = (await stackStatus()).filter((s) => s.pid !== null);
  if (running.length > 0) throw new StackError("stop the stack before resetting it");
  for (const s of servers) rmSync(join(s.dir, "data"), { recursive: true, force: true });
  rmSync(join(localCassandra.dir, "auth"), { recursive: true, force: true });
  rmSync(join(localCassandra.dir, "tls"), { recursive: true, force: true });
}
