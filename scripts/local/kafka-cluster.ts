/**
 * A local multi-broker Kafka cluster (KRaft) on loopback, beside the shared single-broker stack: its own state
 * dir, its own port range (kafkaPorts.ownClusterController and up), the same Maven-resolved jars and broker
 * settings (cdk/servers/kafka-config.ts). Node 1 is broker and controller; every other node is a broker only,
 * so the cluster grows the way MSK does, by brokers joining a running cluster.
 *
 * Processes are tracked by PID file (never found by name) and run detached in their own process group, so
 * stopping one stops exactly it.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localBrokerJvmOptions, localClusterNodeProperties, log4jProperties } from "../../cdk/servers/kafka-config.ts";
import { kafkaPorts } from "../../cdk/servers/ports.ts";
import { kafkaVersion } from "../../cdk/versions.ts";
import { waitFor, WaitTimeoutError } from "../../app/retry.ts";
import { formatKafkaStorage, newKafkaClusterId } from "./kafka-storage.ts";
import { describeKafka } from "./kafka-server.ts";
import { kafkaClasspath } from "./maven-classpath.ts";
import { localHost } from "./locations.ts";
import { StackError } from "./stack-messages.ts";

export interface LocalKafkaCluster {
  /** State root: one folder per node, and the cluster id shared by all of them. */
  readonly dir: string;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly offsetsTopicPartitions: number;
  /** Per broker; small, as several brokers share the machine with the shared stack. */
  readonly heapMiB: number;
  /** The controller's port, broker n's client port this + n. @default kafkaPorts.ownClusterController */
  readonly controllerPort?: number;
  /**
   * Nodes 1..controllers are broker and controller (a KRaft quorum that outlives one node's loss, as MSK's
   * does); the rest brokers only. @default 1
   */
  readonly controllers?: number;
  /** broker.rack of node n (as MSK sets the availability zone); none: no racks. */
  readonly rackOf?: (nodeId: number) => string;
}

const mainClass = "kafka.Kafka";
/** A broker on a busy 2-core machine starts in ~10-30 s; this bound is for a machine much slower than that. */
const readyTimeoutMs = 240_000;

const controllerPortOf = (c?: Pick<LocalKafkaCluster, "controllerPort">): number => c?.controllerPort ?? kafkaPorts.ownClusterController;
/** Controller n's listener: downwards from controllerPort, as the brokers' client ports go upwards from it. */
const controllerListenerPort = (c: LocalKafkaCluster, id: number): number => controllerPortOf(c) - (id - 1);
const controllerIds = (c: LocalKafkaCluster): number[] => Array.from({ length: c.controllers ?? 1 }, (_, i) => i + 1);
export const clusterClientPort = (nodeId: number, c?: Pick<LocalKafkaCluster, "controllerPort">): number => controllerPortOf(c) + nodeId;
export const clusterBootstrap = (nodeIds: readonly number[], c?: Pick<LocalKafkaCluster, "controllerPort">): string[] =>
  nodeIds.map((id) => `${localHost}:${clusterClientPort(id, c)}`);

const log = (msg: string) => process.stderr.write(`kafka-cluster: ${msg}\n`);
const nodeDir = (c: LocalKafkaCluster, id: number) => join(c.dir, `node-${id}`);
const pidFile = (c: LocalKafkaCluster, id: number) => join(nodeDir(c, id), "kafka.pid");

/** The cluster id, made once for the state dir: every node's storage is formatted with it. */
function clusterId(c: LocalKafkaCluster): string {
  const file = join(c.dir, "cluster-id");
  if (!existsSync(file)) {
    mkdirSync(c.dir, { recursive: true });
    writeFileSync(file, `${newKafkaClusterId()}\n`);
  }
  return readFileSync(file, "utf8").trim();
}

/** The node's PID if it runs and is ours (its command line names its own folder). */
function runningPid(c: LocalKafkaCluster, id: number): number | null {
  if (!existsSync(pidFile(c, id))) return null;
  const pid = Number(readFileSync(pidFile(c, id), "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes(mainClass) && cmdline.includes(nodeDir(c, id)) ? pid : null;
  } catch {
    return null;
  }
}

function launchNode(c: LocalKafkaCluster, id: number, classpath: string): number {
  const dir = nodeDir(c, id);
  const logDir = join(dir, "logs");
  const dataDir = join(dir, "data");
  mkdirSync(logDir, { recursive: true });
  const config = join(dir, "server.properties");
  const log4j = join(dir, "log4j.properties");
  writeFileSync(
    config,
    localClusterNodeProperties({
      nodeId: id,
      logDir: dataDir,
      host: localHost,
      controllers: new Map(controllerIds(c).map((n) => [n, controllerListenerPort(c, n)])),
      clientPort: clusterClientPort(id, c),
      replicationFactor: c.replicationFactor,
      minInsyncReplicas: c.minInsyncReplicas,
      offsetsTopicPartitions: c.offsetsTopicPartitions,
      ...(c.rackOf === undefined ? {} : { rack: c.rackOf(id) }),
    }),
  );
  writeFileSync(log4j, log4jProperties(join(logDir, "server.log")));
  const jvm = localBrokerJvmOptions({ heapMiB: c.heapMiB, logDir, log4jConfig: log4j });
  if (!existsSync(join(dataDir, "meta.properties"))) {
    const failure = formatKafkaStorage({ jvm, classpath, config, clusterId: clusterId(c) });
    if (failure !== null) throw new StackError(`formatting node ${id}'s storage in ${dataDir} failed:\n${failure}`);
  }
  const out = openSync(join(logDir, "console.log"), "a");
  const child = spawn("java", [...jvm, "-cp", classpath, mainClass, config], { cwd: dir, detached: true, stdio: ["ignore", out, out] });
  if (child.pid === undefined) throw new StackError(`could not start java for Kafka node ${id}`);
  child.unref();
  writeFileSync(pidFile(c, id), `${child.pid}\n`);
  return child.pid;
}

/** The broker ids the cluster's metadata lists, as seen through any of `nodeIds`. */
export async function registeredBrokers(nodeIds: readonly number[], c?: Pick<LocalKafkaCluster, "controllerPort">): Promise<number[]> {
  const cluster = await describeKafka(clusterBootstrap(nodeIds, c), "kafka-cluster-probe");
  return (cluster?.brokers ?? []).map((b) => b.nodeId).sort((a, b) => a - b);
}

const logTail = (c: LocalKafkaCluster, id: number): string => {
  const file = join(nodeDir(c, id), "logs", "server.log");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-15).join("\n") : "(no log)";
};

/**
 * Starts the given nodes (those not running yet) and returns once the cluster's metadata lists every one of
 * them as a broker. Node 1 (the controller) must be among them or already running.
 */
export async function startClusterNodes(c: LocalKafkaCluster, nodeIds: readonly number[]): Promise<void> {
  const bad = nodeIds.filter((id) => !Number.isInteger(id) || id < 1);
  if (bad.length > 0) throw new StackError(`node ids ${bad.join(", ")}: allowed: integers >= 1`);
  const absent = controllerIds(c).filter((n) => !nodeIds.includes(n) && runningPid(c, n) === null);
  if (absent.length > (c.controllers ?? 1) - quorumMajority(c)) {
    throw new StackError(
      `controller node(s) ${absent.join(", ")} must run (or start with them) before other nodes join: a quorum needs ${quorumMajority(c)} of ${controllerIds(c).length}`,
    );
  }
  const classpath = kafkaClasspath();
  const started: { id: number; pid: number }[] = [];
  for (const id of nodeIds) {
    if (runningPid(c, id) !== null) continue;
    const pid = launchNode(c, id, classpath);
    log(
      `starting Kafka ${kafkaVersion} node ${id} (pid ${pid}) on ${localHost}:${clusterClientPort(id, c)}, logs in ${join(nodeDir(c, id), "logs")}`,
    );
    started.push({ id, pid });
  }
  const want = [...new Set(nodeIds)];
  let seen: number[] = [];
  let lastReport = 0;
  try {
    await waitFor(
      async () => {
        for (const { id, pid } of started) {
          if (runningPid(c, id) !== pid)
            throw new StackError(`Kafka node ${id} exited during start-up; last log lines:\n${logTail(c, id)}`);
        }
        seen = await registeredBrokers(want, c);
        return want.every((id) => seen.includes(id));
      },
      {
        what: `Kafka nodes ${want.join(", ")} to register as brokers`,
        timeoutMs: readyTimeoutMs,
        intervalMs: 500,
        detail: () => `registered: ${seen.join(", ") || "none"}`,
        onWait: (waited) => {
          if (waited - lastReport < 15_000) return;
          lastReport = waited;
          log(`waiting for nodes ${want.join(", ")}: registered ${seen.join(", ") || "none"} after ${Math.round(waited / 1000)} s`);
        },
      },
    );
  } catch (err) {
    await stopCluster(
      c,
      started.map((s) => s.id),
    );
    if (err instanceof WaitTimeoutError) throw new StackError(`${err.message}; see ${c.dir}/node-*/logs`);
    throw err;
  }
}

const quorumMajority = (c: LocalKafkaCluster): number => Math.floor((c.controllers ?? 1) / 2) + 1;

/** The PID of node `id` if it runs (and is ours), else null. */
export const clusterNodePid = (c: LocalKafkaCluster, id: number): number | null => runningPid(c, id);

/**
 * The active controller: the quorum leader of the highest epoch that a running controller recorded in its
 * quorum-state file (KRaft writes it on every election; kafkajs has no DescribeQuorum), or null.
 */
export function activeController(c: LocalKafkaCluster): number | null {
  let best: { leaderId: number; leaderEpoch: number } | null = null;
  for (const id of controllerIds(c)) {
    if (runningPid(c, id) === null) continue;
    const file = join(nodeDir(c, id), "data", "__cluster_metadata-0", "quorum-state");
    if (!existsSync(file)) continue;
    const state = JSON.parse(readFileSync(file, "utf8")) as { leaderId?: number; leaderEpoch?: number };
    if (typeof state.leaderId !== "number" || state.leaderId < 0 || typeof state.leaderEpoch !== "number") continue;
    if (best === null || state.leaderEpoch > best.leaderEpoch) best = { leaderId: state.leaderId, leaderEpoch: state.leaderEpoch };
  }
  return best?.leaderId ?? null;
}

/** Kills node `id` at once (SIGKILL, no clean shutdown: a crash), and waits until it is gone. */
export async function killClusterNode(c: LocalKafkaCluster, id: number): Promise<void> {
  const pid = runningPid(c, id);
  if (pid === null) return;
  process.kill(-pid, "SIGKILL");
  await waitFor(() => runningPid(c, id) !== pid, {
    what: `Kafka node ${id} (pid ${pid}) to die of SIGKILL`,
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  rmSync(pidFile(c, id), { force: true });
}

/** Stops the cluster's nodes (the given ones, or every node with a PID file): SIGTERM, then SIGKILL. */
export async function stopCluster(c: LocalKafkaCluster, nodeIds?: readonly number[]): Promise<void> {
  const ids = nodeIds ?? (existsSync(c.dir) ? nodeFolders(c) : []);
  // Brokers first, the controllers last: a broker shuts down cleanly only while the controllers answer.
  const ordered = [...ids].sort((a, b) => b - a);
  const controllers = new Set(controllerIds(c));
  const stopOne = async (id: number) => {
    const pid = runningPid(c, id);
    if (pid === null) return rmSync(pidFile(c, id), { force: true });
    process.kill(-pid, "SIGTERM");
    const gone = () => runningPid(c, id) !== pid;
    try {
      await waitFor(gone, { what: `Kafka node ${id} (pid ${pid}) to stop`, timeoutMs: 30_000 });
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      process.kill(-pid, "SIGKILL");
      await waitFor(gone, { what: `Kafka node ${id} (pid ${pid}) to die of SIGKILL`, timeoutMs: 30_000, intervalMs: 100 });
    }
    rmSync(pidFile(c, id), { force: true });
  };
  await Promise.all(ordered.filter((id) => !controllers.has(id)).map(stopOne));
  await Promise.all(ordered.filter((id) => controllers.has(id)).map(stopOne));
}

function nodeFolders(c: LocalKafkaCluster): number[] {
  return readdirSync(c.dir)
    .map((name) => /^node-(\d+)$/.exec(name)?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number);
}
