/**
 * `--target local`: each stage runs for real on this machine against the local Kafka + Cassandra. Stage k =
 * k detector processes (local-stage-size.ts). Like the cloud's, the topics are made once per run and grown in
 * place at every stage (stage-topics.ts), and each stage reports the partitions read back from Kafka. Every
 * trial gets its own keyspace and consumer group, and the events topic is emptied before it, so a trial never
 * inherits another's backlog; a real Prometheus scrapes the processes and the results are read
 * from its HTTP API like in the cloud. Teardown stops every process we started, deletes the trial's topics and
 * keyspace (unless --keep), and stops the local stack servers only if this experiment started them.
 *
 * `--target local-cluster`: stage n = the multi-node cluster at n brokers and n Cassandra nodes
 * (local-cluster.ts). Going to a larger stage grows the running cluster as the cloud grows: the new brokers
 * register, the new Cassandra nodes join one at a time (each streaming its ranges), and then Kafka's own
 * reassignment spreads the run's partitions over every broker (app/kafka/rebalance.ts, what the cloud's
 * rebalance Job runs), with the leaders per broker read back into the stage's result.
 */
import { rmSync } from "node:fs";
import type { Admin } from "kafkajs";
import { createKafka } from "../../app/kafka/kafka-client.ts";
import { summarize } from "../../app/kafka/rebalance-command.ts";
import { rebalancePartitions } from "../../app/kafka/rebalance.ts";
import { createLogger } from "../../app/log.ts";
import { waitFor } from "../../app/retry.ts";
import { waitReady, type AppProcess } from "../local/app-process.ts";
import { dropKeyspaces, IsolatedRun, runNames, type RunNames } from "../local/isolated-run.ts";
import { clusterNodeCounts, clusterStatus, clusterTarget, startCluster, stopClusterStack } from "../local/local-cluster.ts";
import { singleNodeTarget, type LocalTarget } from "../local/local-target.ts";
import { localJobs, startLocalPrometheus, type LocalPrometheus } from "../local/prometheus.ts";
import { endpointsAnswer, ensureStack, stopStack } from "../local/stack-control.ts";
import { judgeReadBack } from "./rebalance-job-run.ts";
import { localClusterStageSize, localMachine, localStageSize, type LocalMachine, type LocalStageSize } from "./local-stage-size.ts";
import type { Progress } from "./progress.ts";
import { consumedPartitionsQuery, currentChecksQuery, readWindow } from "./prometheus-query.ts";
import { emptyTopic, readPartitions } from "./stage-topics.ts";
import {
  abortableSleep,
  throwIfAborted,
  type LeaderBalanceReadBack,
  type LoadWindow,
  type StageDescription,
  type StageRunner,
  type TrialOutcome,
} from "./stage-runner.ts";

export interface LocalRunnerOptions {
  readonly experimentId: string;
  /** Where the load generator's report files go (inside the experiment folder). */
  readonly workDir: string;
  readonly keep: boolean;
  readonly machine?: LocalMachine;
  /** Stages are the multi-node cluster's sizes (--target local-cluster), not detector processes. */
  readonly cluster?: boolean;
  /** Called for every child process started, so the state file can list them. */
  readonly onProcess?: (name: string, pid: number) => void;
  /** Stack servers a previous (resumed) run of this experiment started: stopped at teardown too. */
  readonly startedStack?: readonly string[];
  readonly onStackStarted?: (names: readonly string[]) => void;
}

/** What startedStack records when the experiment started the whole local cluster (stopped at teardown). */
const clusterStarted = "cluster";

/** Every topic of an experiment starts with this; every keyspace with `keyspacePrefix`. */
export const topicPrefix = (experimentId: string) => `${experimentId}-s`;
export const keyspacePrefix = (experimentId: string) => `exp_${experimentId.replaceAll("-", "_")}_s`;

/**
 * Names of one trial's topics, keyspace and group. The topics belong to the run (the experiment id and the
 * run: a resumed experiment never reuses an interrupted run's topics) and are grown stage by stage, as in the
 * cloud; the keyspace and group belong to the trial (stage and trial number too).
 */
export const trialNames = (experimentId: string, stage: number, trial: number, run: string): RunNames =>
  runNames(`${topicPrefix(experimentId)}${stage}-t${trial}-${run}`, {
    topics: `${topicPrefix(experimentId)}-${run}`,
    keyspace: `${keyspacePrefix(experimentId)}${stage}_t${trial}_${run}`,
  });

export class LocalStageRunner implements StageRunner {
  readonly target: "local" | "local-cluster";
  readonly #o: LocalRunnerOptions;
  readonly #cluster: boolean;
  /** The cluster size now (local-cluster), once prepared: its servers are the trials' target. */
  #nodes: number | undefined;
  readonly #machine: LocalMachine;
  readonly #log = createLogger("experiment", "warn");
  #startedStack: string[];
  #prometheus: LocalPrometheus | undefined;
  /** The trial running now: its processes are what an interrupted experiment must stop. */
  #trial: IsolatedRun | undefined;
  #trials = 0;
  readonly #run = Date.now().toString(36).slice(-6);

  constructor(o: LocalRunnerOptions) {
    this.#o = o;
    this.#machine = o.machine ?? localMachine;
    this.#cluster = o.cluster === true;
    this.target = this.#cluster ? "local-cluster" : "local";
    this.#startedStack = [...(o.startedStack ?? [])];
  }

  #size(stage: number): LocalStageSize {
    return this.#cluster ? localClusterStageSize(stage) : localStageSize(stage, this.#machine);
  }

  #targetOf(stage: number): LocalTarget {
    return this.#cluster ? clusterTarget(stage) : singleNodeTarget;
  }

  describe(stage: number): StageDescription {
    const s = this.#size(stage);
    const cores = this.#machine.cores;
    const servers = this.#cluster ? stage : 1;
    return {
      name: `stage-${stage}`,
      size: stage,
      sizeUnit: this.#cluster ? "Kafka brokers and Cassandra nodes (local cluster)" : "detector processes (local)",
      sizes: {
        cassandraNodes: servers,
        kafkaBrokers: servers,
        partitions: s.partitions,
        detectorProcesses: s.detectorProcesses,
        loadgenProcesses: 1,
        eksWorkers: null,
      },
      cores: { cassandra: null, kafka: null, workers: null, total: cores, shared: true },
      planRate: s.ratePerSecond,
      maxRate: s.ratePerSecond * 4,
      config: {
        target: this.target,
        stage,
        machine: this.#machine,
        partitions: s.partitions,
        detectorProcesses: s.detectorProcesses,
        consumersPerProcess: s.consumersPerProcess,
        concurrency: s.concurrency,
        cassandraConnectionsPerHost: s.cassandraConnectionsPerHost,
        requestsPerConnection: s.requestsPerConnection,
        keys: s.keys,
        reference: s.reference,
      },
      cost: (hours) => ({ perHour: null, hours, total: null, partial: false, priceListAsOf: null, note: "local machine: no cloud cost" }),
    };
  }

  async prepare(stage: number, progress: Progress, signal: AbortSignal): Promise<void> {
    this.#size(stage); // validates before anything starts
    if (this.#cluster) {
      const from = this.#nodes ?? clusterStatus(stage).filter((m) => m.kind === "cassandra" && m.pid !== null).length;
      if (clusterStatus(stage).every((m) => m.pid === null) && !this.#startedStack.includes(clusterStarted)) {
        this.#startedStack.push(clusterStarted);
        this.#o.onStackStarted?.(this.#startedStack);
      }
      progress.phase(
        "prepare",
        from === 0 ? `local cluster of ${stage}` : `local cluster: growing to ${stage} brokers and ${stage} Cassandra nodes`,
      );
      await startCluster(stage);
      this.#nodes = stage;
    } else {
      progress.phase("prepare", "local stack");
      const started = await ensureStack();
      if (started.length > 0) {
        this.#startedStack.push(...started);
        this.#o.onStackStarted?.(this.#startedStack);
      }
      throwIfAborted(signal);
      if (!(await endpointsAnswer())) throw new Error("local stack not answering: see npm run stack -- status");
    }
    throwIfAborted(signal);
    if (this.#prometheus === undefined) {
      this.#prometheus = await startLocalPrometheus();
      this.#o.onProcess?.("prometheus", this.#prometheus.pid);
    }
  }

  async runTrial(stage: number, rate: number, window: LoadWindow, progress: Progress, signal: AbortSignal): Promise<TrialOutcome> {
    const prom = this.#prometheus;
    if (prom === undefined) throw new Error("runTrial before prepare");
    const s = this.#size(stage);
    const target = this.#targetOf(stage);
    const names = trialNames(this.#o.experimentId, stage, ++this.#trials, this.#run);
    // The run's topics grown to this stage (as the cloud's schema Job does) and emptied of the last trial's
    // events; the schema once, before any detector starts (no concurrent DDL).
    progress.phase("deploy", `${s.detectorProcesses} detector(s), ${s.partitions} partitions`);
    const run = await IsolatedRun.open({
      names,
      target,
      partitions: s.partitions,
      detector: {
        tracingSampleRatio: 0,
        consumersPerProcess: s.consumersPerProcess,
        detectorConcurrency: s.concurrency,
        cassandraConnectionsPerHost: s.cassandraConnectionsPerHost,
        requestsPerConnection: s.requestsPerConnection,
      },
      workDir: this.#o.workDir,
      onProcess: (app) => {
        if (app.child.pid !== undefined) this.#o.onProcess?.(app.name, app.child.pid);
      },
    });
    this.#trial = run;
    await this.#withAdmin((admin) => emptyTopic(admin, names.eventsTopic));
    throwIfAborted(signal);
    const leaderBalance = this.#cluster ? await this.#spreadPartitions(names, progress) : undefined;
    throwIfAborted(signal);

    const detectors: AppProcess[] = [];
    try {
      for (let i = 0; i < s.detectorProcesses; i++) detectors.push(run.startDetector(`detector-${i + 1}`));
      progress.phase("wait-ready", `${s.detectorProcesses} detector(s)`);
      await Promise.all(detectors.map((d) => waitReady(d)));
      prom.setTargets("detector", await Promise.all(detectors.map((d) => d.port())));
      // Ready means Prometheus scrapes every detector too: the results come from there.
      await this.#until(
        signal,
        60_000,
        "Prometheus scraping every detector",
        async () => (await prom.client.value(`count(up{job="${localJobs.detector}"} == 1)`)) === s.detectorProcesses,
      );

      progress.phase("warm-up", `${rate} events/s`);
      const loadgenProcess = run.startLoadgen({
        tracingSampleRatio: 0,
        rate,
        duration: window.warmupSeconds + window.durationSeconds,
        keys: s.keys,
      });
      const loadgen = loadgenProcess.app;
      prom.setTargets("loadgen", [await loadgen.port()]);
      const t0 = Date.now();
      let loadPhase = false;
      const ticker = setInterval(() => {
        if (!loadPhase && Date.now() - t0 >= window.warmupSeconds * 1000) {
          loadPhase = true;
          progress.phase("load", `${rate} events/s`);
        }
        prom.client.value(currentChecksQuery).then(
          (v) => progress.tick(v),
          () => {},
        );
      }, 2_000);
      let exit: number | string;
      try {
        exit = await Promise.race([
          loadgen.exited,
          new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error("interrupted")), { once: true })),
        ]);
      } finally {
        clearInterval(ticker);
      }
      throwIfAborted(signal);
      if (exit !== 0) throw new Error(`loadgen failed (${exit}):\n${loadgen.tail().join("\n")}`);
      const report = loadgenProcess.report();
      // Two scrapes past the end, so the window's last counts are in Prometheus.
      progress.phase("read-results");
      await abortableSleep(2_500, signal);
      const seconds = Math.max(1, Math.round((report.endedAt - report.startedAt) / 1000 - window.warmupSeconds));
      const endMs = report.endedAt + 1_000;
      const metrics = await readWindow(prom.client, endMs, seconds, localJobs.detector);
      const partitions = await this.#withAdmin((admin) => readPartitions(admin, names.eventsTopic));
      const consumedByDetectors = await prom.client.value(consumedPartitionsQuery(names.eventsTopic, seconds), endMs);
      return {
        metrics,
        seconds,
        endedAt: new Date(report.endedAt),
        partitions: {
          readBack: partitions,
          source: "kafka topic metadata",
          consumedByDetectors,
          ...(leaderBalance === undefined ? {} : { leaderBalance }),
        },
      };
    } finally {
      progress.phase("stop-processes");
      await this.#stopApps();
      prom.setTargets("detector", []);
      prom.setTargets("loadgen", []);
    }
  }

  async teardown(progress: Progress): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    progress.log("teardown: stopping our processes");
    await attempt("stop processes", () => this.#stopApps());
    await attempt("stop prometheus", async () => {
      await this.#prometheus?.stop();
      this.#prometheus = undefined;
    });
    if (!this.#o.keep) {
      // By prefix, not only this run's list: an interrupted earlier run of the same experiment is cleaned too.
      const id = this.#o.experimentId;
      await attempt("delete topics", () =>
        this.#withAdmin(async (admin) => {
          const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix(id)));
          if (topics.length > 0) {
            progress.log(`teardown: deleting ${topics.length} topic(s) ${topicPrefix(id)}*`);
            await admin.deleteTopics({ topics });
          }
        }),
      );
      await attempt("drop keyspaces", async () => {
        const dropped = await dropKeyspaces((k) => k.startsWith(keyspacePrefix(id)), this.#currentTarget());
        if (dropped.length > 0) progress.log(`teardown: dropped ${dropped.length} keyspace(s) ${keyspacePrefix(id)}*`);
      });
    }
    if (!this.#o.keep && this.#startedStack.includes(clusterStarted)) {
      progress.log("teardown: stopping the local cluster this experiment started");
      await attempt("stop cluster", () => stopClusterStack());
    } else if (this.#cluster) {
      progress.log(
        `teardown: the local cluster was running before this experiment; left running${this.#nodes === undefined ? "" : ` at ${this.#nodes} brokers and nodes`}`,
      );
    }
    const servers = this.#startedStack.filter((n): n is "kafka" | "cassandra" => n === "kafka" || n === "cassandra");
    if (!this.#o.keep && servers.length > 0) {
      progress.log(`teardown: stopping the local stack servers this experiment started (${servers.join(", ")})`);
      await attempt("stop stack", () => stopStack(servers));
    }
    if (!this.#o.keep) this.#startedStack = [];
    if (problems.length > 0) throw new Error(`teardown incomplete:\n${problems.join("\n")}`);
  }

  async #stopApps(): Promise<void> {
    await this.#trial?.stopProcesses("SIGTERM", 30_000);
  }

  /**
   * Spreads the run's partitions (and the group offsets) over every broker of the cluster as it is now, and
   * reads back who leads what. Idempotent: after the first trial of a stage nothing moves.
   */
  async #spreadPartitions(names: RunNames, progress: Progress): Promise<LeaderBalanceReadBack> {
    const topics = [names.eventsTopic, names.checksTopic, names.deadLetterTopic];
    progress.phase("rebalance", `partitions over ${this.#nodes ?? "?"} brokers`);
    const kafka = createKafka(`experiment-${this.#o.experimentId}-rebalance`, this.#brokers(), this.#log);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const outcome = await rebalancePartitions(kafka, admin, { topics, log: (m) => progress.log(`rebalance: ${m}`) });
      const summary = summarize(outcome);
      progress.log(
        `leaders per broker (${summary.reassigned} partitions reassigned): ${JSON.stringify(summary.leaders[names.eventsTopic] ?? {})}`,
      );
      return judgeReadBack(summary, "kafka metadata after the reassignment (app/kafka/rebalance.ts)", topics);
    } finally {
      await admin.disconnect();
    }
  }

  #brokers(): string[] {
    return [...this.#currentTarget().kafkaBrokers];
  }

  /** The servers as they run now; before the first prepare (a resumed teardown), the cluster's first brokers and nodes, which every size has. */
  #currentTarget(): LocalTarget {
    return this.#cluster ? clusterTarget(this.#nodes ?? clusterNodeCounts.min) : singleNodeTarget;
  }

  async #withAdmin<T>(f: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = createKafka(`experiment-${this.#o.experimentId}`, this.#brokers(), this.#log).admin();
    await admin.connect();
    try {
      return await f(admin);
    } finally {
      await admin.disconnect();
    }
  }

  async #until(signal: AbortSignal, timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
    await waitFor(() => check().catch(() => false), { what, timeoutMs, intervalMs: 500, sleep: (ms) => abortableSleep(ms, signal) });
  }
}

/** Removes the load generator's report files of a finished experiment (they are inputs, not results). */
export const removeWorkDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });
