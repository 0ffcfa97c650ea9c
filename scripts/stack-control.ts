/**
 * The local stack: one Apache Kafka broker (KRaft) and one Apache Cassandra node on loopback, resolved from
 * Maven Central by scripts/local-stack/pom.xml and configured by cdk/servers (the same module the cloud uses).
 * State lives under .local/ (git-ignored). Processes are tracked by PID file, never found by name.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import cassandra from "cassandra-driver";
import { Kafka, logLevel } from "kafkajs";
import {
  cassandraJvmOptions,
  cassandraLogbackXml,
  cassandraYaml,
} from "../cdk/servers/cassandra-config.ts";
import { localBrokerJvmOptions, localBrokerProperties, log4jProperties } from "../cdk/servers/kafka-config.ts";
import { cassandraPorts, kafkaPorts } from "../cdk/servers/ports.ts";
import { cassandraVersion, kafkaVersion, minimumJavaVersion } from "../cdk/servers/versions.ts";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const localHost = "127.0.0.1";
/** Overridable so tests can run a second, isolated state directory against the same ports. */
const stateRoot = process.env.LOCAL_STACK_DIR ?? join(projectRoot, ".local");
const pomFile = join(projectRoot, "scripts", "local-stack", "pom.xml");

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

export class StackError extends Error {
  override name = "StackError";
}

interface Server {
  readonly name: "kafka" | "cassandra";
  readonly label: string;
  readonly version: string;
  readonly port: number;
  readonly dir: string;
  readonly mainClass: string;
}

const servers: readonly Server[] = [
  {
    name: "kafka",
    label: `Kafka ${kafkaVersion}`,
    version: kafkaVersion,
    port: kafkaPorts.localClient,
    dir: join(stateRoot, "kafka"),
    mainClass: "kafka.Kafka",
  },
  {
    name: "cassandra",
    label: `Cassandra ${cassandraVersion}`,
    version: cassandraVersion,
    port: cassandraPorts.cql,
    dir: join(stateRoot, "cassandra"),
    mainClass: "org.apache.cassandra.service.CassandraDaemon",
  },
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

function resolveClasspath(s: Server): string {
  const file = join(s.dir, `classpath-${s.version}.txt`);
  if (!existsSync(file)) {
    log(`resolving ${s.label} from Maven Central (cached in ~/.m2 after the first time)…`);
    const started = Date.now();
    const mvn = spawnSync(
      "mvn",
      ["-q", "-B", "-f", pomFile, `-P${s.name}`, `-D${s.name}.version=${s.version}`, `-Dclasspath.file=${file}`, "generate-resources"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    if (mvn.status !== 0 || !existsSync(file)) {
      throw new StackError(`could not resolve ${s.label} with Maven:\n${mvn.stdout}${mvn.stderr}`.trimEnd());
    }
    log(`resolved ${s.label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return readFileSync(file, "utf8").trim();
}

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
      const clusterId = randomBytes(16).toString("base64url");
      const format = spawnSync(
        "java",
        [...jvm, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config],
        { encoding: "utf8" },
      );
      if (format.status !== 0) throw new StackError(`formatting Kafka storage failed:\n${format.stdout}${format.stderr}`);
    }
    return [...jvm, "-cp", classpath, s.mainClass, config];
  }
  const config = join(s.dir, "cassandra.yaml");
  const logback = join(s.dir, "logback.xml");
  writeFileSync(
    config,
    cassandraYaml({
      clusterName: "local",
      address: localHost,
      seeds: [localHost],
      dataRoot: join(s.dir, "data"),
      snitch: "SimpleSnitch",
      cores: localSizing.cassandraCores,
      authentication: false,
    }),
  );
  writeFileSync(logback, cassandraLogbackXml(logDir));
  const jammJar = classpath.split(":").find((jar) => /\/jamm-[\d.]+\.jar$/.test(jar));
  if (!jammJar) throw new StackError("the jamm jar is missing from Cassandra's classpath");
  const jvm = cassandraJvmOptions({
    heapMiB: localSizing.cassandraHeapMiB,
    jammJar,
    configFile: config,
    logbackFile: logback,
    logDir,
    singleNode: true,
  });
  return [...jvm, "-cp", classpath, s.mainClass];
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

async function kafkaAnswers(): Promise<boolean> {
  const admin = new Kafka({
    clientId: "stack-probe",
    brokers: [localEndpoints.kafkaBrokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function cassandraAnswers(): Promise<boolean> {
  const client = new cassandra.Client({
    contactPoints: [localEndpoints.cassandraContactPoints],
    localDataCenter: localEndpoints.cassandraLocalDataCenter,
    socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
  });
  try {
    await client.connect();
    const rs = await client.execute("SELECT release_version FROM system.local");
    return rs.rows.length === 1;
  } catch {
    return false;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

const answers = (s: Server) => (s.name === "kafka" ? kafkaAnswers() : cassandraAnswers());

function logTail(s: Server, lines = 25): string {
  for (const file of ["system.log", "server.log", "console.log"]) {
    const path = join(s.dir, "logs", file);
    if (existsSync(path)) return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  }
  return "(no log)";
}

async function waitReady(s: Server, pid: number): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  let lastReport = Date.now();
  while (Date.now() < deadline) {
    if (runningPid(s) !== pid) {
      rmSync(pidFile(s), { force: true });
      throw new StackError(`${s.label} exited during start-up; last log lines (${s.dir}/logs):\n${logTail(s)}`);
    }
    if (await answers(s)) return;
    if (Date.now() - lastReport > 15_000) {
      log(`waiting for ${s.label} (pid ${pid}) to answer… ${Math.round((readyTimeoutMs - (deadline - Date.now())) / 1000)} s`);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
  throw new StackError(`${s.label} did not answer within ${readyTimeoutMs / 1000} s; see ${s.dir}/logs`);
}

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
 */
export async function startStack(): Promise<Server["name"][]> {
  checkTools();
  const started: { server: Server; pid: number }[] = [];
  for (const s of servers) {
    mkdirSync(s.dir, { recursive: true });
    const pid = runningPid(s);
    if (pid !== null) {
      log(`${s.label} already running (pid ${pid}) on ${localHost}:${s.port}`);
      continue;
    }
    if (await portAnswers(s.port)) {
      throw new StackError(
        `port ${s.port} on ${localHost} is taken by a process that is not our ${s.label}: stop it (see: ss -ltnp 'sport = :${s.port}') and start again`,
      );
    }
    const classpath = resolveClasspath(s);
    const newPid = launch(s, javaCommandFor(s, classpath));
    log(`starting ${s.label} (pid ${newPid}), logs in ${join(s.dir, "logs")}`);
    started.push({ server: s, pid: newPid });
  }
  const t0 = Date.now();
  try {
    await Promise.all(started.map(({ server, pid }) => waitReady(server, pid)));
  } catch (err) {
    await stopStack(started.map(({ server }) => server.name));
    throw err;
  }
  for (const { server } of started) {
    log(`${server.label} ready on ${localHost}:${server.port} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return started.map(({ server }) => server.name);
}

/** Stops our servers (all, or the named ones): SIGTERM, then SIGKILL after a grace period. */
export async function stopStack(names: readonly Server["name"][] = servers.map((s) => s.name)): Promise<void> {
  await Promise.all(
    servers
      .filter((s) => names.includes(s.name))
      .map(async (s) => {
        const pid = runningPid(s);
        if (pid === null) {
          rmSync(pidFile(s), { force: true });
          return;
        }
        // Negative PID: the whole process group the detached server leads.
        process.kill(-pid, "SIGTERM");
        const deadline = Date.now() + 60_000;
        while (runningPid(s) === pid && Date.now() < deadline) await sleep(250);
        if (runningPid(s) === pid) {
          log(`${s.label} (pid ${pid}) did not stop in 60 s; killing it`);
          process.kill(-pid, "SIGKILL");
          while (runningPid(s) === pid) await sleep(100);
        }
        rmSync(pidFile(s), { force: true });
        log(`stopped ${s.label} (pid ${pid})`);
      }),
  );
}

/** Deletes the local servers' data (not the cached artifacts); the stack must be stopped. */
export async function resetStack(): Promise<void> {
  const running = (await stackStatus()).filter((s) => s.pid !== null);
  if (running.length > 0) throw new StackError("stop the stack before resetting it");
  for (const s of servers) rmSync(join(s.dir, "data"), { recursive: true, force: true });
}
