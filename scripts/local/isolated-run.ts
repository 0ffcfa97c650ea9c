/**
 * One isolated run of the pipeline on the local stack, the one way every local caller starts the app:
 * `npm run local` (pipeline-run.ts), the benchmarks and the fault campaign through it, `experiment --target
 * local` (stage-runner-local.ts) and the app's integration tests.
 *
 * A run has its own names (topics, keyspace, consumer group, key prefix), so runs neither see nor disturb each
 * other. Its settings are the app's own table (app/config.ts) with the local endpoints: nothing here restates a
 * default (table TTL, compaction window, consistency). The schema is made once, before any detector starts, by
 * the `ensureSchema` the cloud's schema Job runs, and the detectors wait for it (`createSchema: false`), as the
 * cloud's pods do. Afterwards `drop()` removes the run's topics and keyspace.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import cassandra from "cassandra-driver";
import type { Kafka } from "kafkajs";
import { detectorEnv, loadgenEnv, parseDetectorConfig, type DetectorConfig, type LoadgenConfig } from "../../app/config.ts";
import { ensureSchema, topicSpecs } from "../../app/detector/schema.ts";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import type { LoadgenReport } from "../../app/loadgen/loadgen.ts";
import { createLogger } from "../../app/log.ts";
import { startApp, stopApp, waitReady, type AppProcess } from "./app-process.ts";
import type { MemoryCgroup } from "./memory-cgroup.ts";
import { singleNodeTarget, type LocalTarget } from "./local-target.ts";
import { projectRoot } from "./locations.ts";

export interface RunNames {
  readonly runId: string;
  readonly keyspace: string;
  readonly eventsTopic: string;
  readonly checksTopic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
  /** Prefix of the load generator's keys and its producer id (at most 32 characters). */
  readonly keyPrefix: string;
}

/**
 * Every name of a run from its id. `topics` names the topics after another id (a staged experiment grows one
 * set of topics across its trials, as the cloud does); `keyspace` overrides the keyspace's name.
 */
export function runNames(runId: string, o: { readonly topics?: string; readonly keyspace?: string } = {}): RunNames {
  const topics = o.topics ?? runId;
  return {
    runId,
    keyspace: o.keyspace ?? `local_${runId.replaceAll("-", "_")}`,
    eventsTopic: `${topics}-events`,
    checksTopic: `${topics}-checks`,
    deadLetterTopic: `${topics}-dead-letter`,
    groupId: `${runId}-detector`,
    keyPrefix: runId.slice(-32),
  };
}

/** A fresh run id: base 36 time and a random suffix. */
export const newRunId = (prefix = "r"): string => `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

export interface IsolatedRunOptions {
  readonly names: RunNames;
  readonly partitions: number;
  /** Detector settings beyond the names and local endpoints: pool sizes, concurrency, tracing … */
  readonly detector?: Partial<DetectorConfig>;
  /** Where the load generators write their reports. @default results/local/tmp */
  readonly workDir?: string;
  /** Told of every process started, e.g. so an experiment's state file can list it. */
  readonly onProcess?: (app: AppProcess) => void;
  /** The servers it runs on, and their replication. @default singleNodeTarget */
  readonly target?: LocalTarget;
}

/** A load generator of a run, and its report once it has exited. */
export interface LoadgenProcess {
  readonly app: AppProcess;
  readonly reportPath: string;
  report(): LoadgenReport;
}

/** Settings of both commands that follow from the run, not from the caller. */
const sharedSettings = (names: RunNames, partitions: number, target: LocalTarget) => ({
  kafkaBrokers: [...target.kafkaBrokers],
  eventsTopic: names.eventsTopic,
  partitions,
  topicReplicationFactor: target.topicReplicationFactor,
  // "info": the process announces its HTTP port in an info record (app-process.ts reads it).
  logLevel: "info" as const,
});

/**
 * A detector's environment for a run: its names, the local endpoints and `settings`, validated by the app's own
 * schema. For a test that must make the schema itself; everything else opens an IsolatedRun.
 */
export const localDetectorEnv = (
  names: RunNames,
  partitions: number,
  settings: Partial<DetectorConfig> = {},
  target: LocalTarget = singleNodeTarget,
): Record<string, string> =>
  detectorEnv({
    ...sharedSettings(names, partitions, target),
    checksTopic: names.checksTopic,
    deadLetterTopic: names.deadLetterTopic,
    groupId: names.groupId,
    keyspace: names.keyspace,
    replicationFactor: target.cassandraReplicationFactor,
    cassandraContactPoints: [...target.cassandraContactPoints],
    cassandraLocalDataCenter: target.cassandraLocalDataCenter,
    ...settings,
  });

export class IsolatedRun {
  readonly names: RunNames;
  readonly partitions: number;
  readonly kafka: Kafka;
  readonly target: LocalTarget;
  /** The detectors' environment, validated by the app's own schema. */
  readonly detectorEnv: Record<string, string>;
  readonly #workDir: string;
  readonly #onProcess: ((app: AppProcess) => void) | undefined;
  readonly #apps: AppProcess[] = [];
  #loadgens = 0;

  private constructor(o: IsolatedRunOptions, kafka: Kafka, env: Record<string, string>) {
    this.names = o.names;
    this.partitions = o.partitions;
    this.kafka = kafka;
    this.target = o.target ?? singleNodeTarget;
    this.detectorEnv = env;
    this.#workDir = o.workDir ?? join(projectRoot, "results", "local", "tmp");
    this.#onProcess = o.onProcess;
  }

  /** Validates the settings and makes (or grows) the run's topics and its keyspace; starts nothing. */
  static async open(o: IsolatedRunOptions): Promise<IsolatedRun> {
    const target = o.target ?? singleNodeTarget;
    const env = localDetectorEnv(o.names, o.partitions, { ...o.detector, createSchema: false }, target);
    const log = createLogger(`run-${o.names.runId}`, "warn");
    const kafka = createKafka(`local-${o.names.runId}`, target.kafkaBrokers, log);
    await ensureSchema(parseDetectorConfig({ env }), kafka, null, log);
    return new IsolatedRun(o, kafka, env);
  }

  /**
   * Starts one detector process (not waiting for it); `settings` override the run's (e.g. another group); `node`
   * adds Node's own environment (NODE_OPTIONS) and `cgroup` runs it under a memory limit, as a pod would.
   */
  startDetector(
    label: string,
    settings: Partial<DetectorConfig> = {},
    node: { env?: Record<string, string>; cgroup?: MemoryCgroup } = {},
  ): AppProcess {
    const env = Object.keys(settings).length === 0 ? this.detectorEnv : { ...this.detectorEnv, ...detectorEnv(settings) };
    return this.#track(startApp("detector", { ...env, ...node.env }, label, node.cgroup));
  }

  /** Starts `count` detectors, `detector-<first>` … , and waits until every one is ready. */
  async startDetectors(count: number, first = 0): Promise<AppProcess[]> {
    const apps = Array.from({ length: count }, (_, i) => this.startDetector(`detector-${first + i}`));
    await Promise.all(apps.map((a) => waitReady(a)));
    return apps;
  }

  /** Starts a load generator on the run's topic and keys; `settings` are its load (rate, duration, keys …). */
  startLoadgen(settings: Partial<LoadgenConfig>, label = "loadgen"): LoadgenProcess {
    mkdirSync(this.#workDir, { recursive: true });
    const reportPath = join(this.#workDir, `loadgen-${this.names.runId}-${++this.#loadgens}.json`);
    const env = loadgenEnv({
      ...sharedSettings(this.names, this.partitions, this.target),
      keyPrefix: this.names.keyPrefix,
      producerId: `${this.names.keyPrefix}-lg${this.#loadgens}`,
      reportPath,
      ...settings,
    });
    const app = this.#track(startApp("loadgen", env, label));
    return { app, reportPath, report: () => JSON.parse(readFileSync(reportPath, "utf8")) as LoadgenReport };
  }

  /** Stops every process of the run (SIGKILL after `graceMs`); resolves with their exits. */
  async stopProcesses(signal: NodeJS.Signals = "SIGTERM", graceMs = 30_000): Promise<(number | string)[]> {
    const apps = this.#apps.splice(0);
    return Promise.all(apps.map((a) => stopApp(a, signal, graceMs)));
  }

  /** Removes the run's topics and keyspace. */
  async drop(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: topicSpecs(this.names).map((t) => t.name) }).catch(() => {});
    } finally {
      await admin.disconnect();
    }
    await dropKeyspaces((k) => k === this.names.keyspace, this.target);
  }

  #track(app: AppProcess): AppProcess {
    this.#apps.push(app);
    this.#onProcess?.(app);
    return app;
  }
}

/** Drops the local keyspaces `which` selects; returns their names. */
export async function dropKeyspaces(which: (keyspace: string) => boolean, target: LocalTarget = singleNodeTarget): Promise<string[]> {
  const client = new cassandra.Client({
    contactPoints: [...target.cassandraContactPoints],
    localDataCenter: target.cassandraLocalDataCenter,
  });
  try {
    await client.connect();
    const rows = (await client.execute("SELECT keyspace_name FROM system_schema.keyspaces")).rows;
    const keyspaces = rows.map((r) => r.get("keyspace_name") as string).filter(which);
    for (const k of keyspaces) await client.execute(`DROP KEYSPACE IF EXISTS ${k}`);
    return keyspaces;
  } finally {
    await client.shutdown();
  }
}
