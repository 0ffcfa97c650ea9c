/**
 * `--target aws`: a stage is the size model's plan for N Cassandra nodes.
 * - deploy / grow in place: `cdk synth -c cassandraNodes=N -c experimentId=<id> -c region=<r> --output
 *   work/cdk.out`, the Cassandra user-data guard over that assembly, then `cdk deploy --all --app work/cdk.out
 *   --require-approval never` (child processes; their output goes to work/cdk-*.log);
 * - Kubernetes API: one `kubectl proxy` on loopback (kubeconfig from `aws eks update-kubeconfig --name <id>-eks`
 *   into work/kubeconfig);
 * - Prometheus: `kubectl port-forward` to the operator's governing Service (prometheus-route.ts), restarted on
 *   the same local port when it dies. Not the API server's service proxy: its connections come from the control
 *   plane's interfaces, which the Prometheus NetworkPolicy denies (it admits only Grafana);
 * - the rate: the load generator Deployment's LOADGEN_RATE, patched (strategic merge) when a trial needs another;
 * - teardown: `cdk destroy --all --force`, then the sweep lists what is left under the experiment's tag, deletes
 *   it, and fails naming what remains.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { sizePlanFrom, type SizePlan } from "../../cdk/size/size-plan.ts";
import { kitStackNames } from "../../cdk/stack-names.ts";
import { loadgenEnvNames } from "../../app/config.ts";
import { waitFor } from "../../app/retry.ts";
import { topics } from "../../app/topology.ts";
import { components, ports } from "../../charts/names.ts";
import type { AwsContext } from "../aws/aws-context.ts";
import { assemblyTemplate, guardCassandraUserData } from "../aws/cassandra-user-data-guard.ts";
import { callerClusterAdmin } from "../aws/cluster-admin.ts";
import { sweepExperiment } from "../aws/deletion-order.ts";
import { hourlyCost } from "../cost/cost-model.ts";
import { projectRoot } from "../local/locations.ts";
import type { Progress } from "./progress.ts";
import { PortForwarder, prometheusRoute } from "./prometheus-route.ts";
import { consumedPartitionsQuery, currentChecksQuery, PrometheusClient, readWindow } from "./prometheus-query.ts";
import { awsNames, KubeApi, readinessDeps, waitAwsReady } from "./readiness.ts";
import { JoinProgress, readinessBudget, readinessBudgetText, readinessLine } from "./readiness-budget.ts";
import { runRebalanceJob } from "./rebalance-job-run.ts";
import {
  abortableSleep,
  type LeaderBalanceReadBack,
  type LoadWindow,
  type StageDescription,
  type StageRunner,
  type TrialOutcome,
} from "./stage-runner.ts";

export interface AwsRunnerOptions {
  readonly experimentId: string;
  readonly workDir: string;
  readonly region: string;
  readonly keep: boolean;
  /** Tests point the AWS clients at a replay server. */
  readonly aws?: Partial<AwsContext>;
  /** Tests give a Kubernetes API base URL instead of starting kubectl proxy. */
  readonly kubeBaseUrl?: string;
  /** Tests give a Prometheus base URL instead of starting kubectl port-forward. */
  readonly prometheusBaseUrl?: string;
  readonly readyTimeoutMs?: number;
  /** The EKS cluster admin; default: the caller's identity (STS GetCallerIdentity, scripts/aws/cluster-admin.ts). */
  readonly clusterAdminArn?: string | undefined;
  readonly apiAccessCidrs?: readonly string[] | undefined;
  /** Deploy even when running Cassandra nodes' user data changes (they stop, start and lose their data). */
  readonly replaceCassandraNodes?: boolean;
  /** The cdk CLI; default: the project's. Tests give a stand-in that records its calls. */
  readonly cdk?: string;
}

/** The strategic-merge patch that sets the load generator's rate (container name = component name). */
export const loadRatePatch = (rate: number) => ({
  spec: {
    template: { spec: { containers: [{ name: components.loadGenerator, env: [{ name: loadgenEnvNames.rate, value: String(rate) }] }] } },
  },
});

/** Who may use the cluster and from where (cdk/access-input.ts). */
export interface ClusterAccess {
  readonly clusterAdminArn: string;
  /** Public CIDRs that may reach the API endpoint: the runner's machine must be among them unless it is in the VPC. */
  readonly apiAccessCidrs?: readonly string[] | undefined;
}

/** The CDK context of a stage: its size, the experiment, the region, the cluster admin and the API's CIDRs. */
export const cdkContextArgs = (plan: SizePlan, access: ClusterAccess): string[] => [
  "-c",
  `cassandraNodes=${plan.cassandra.nodes}`,
  "-c",
  `experimentId=${plan.experimentId}`,
  "-c",
  `region=${plan.region}`,
  // Stages are fixed-size (plan(stage) sets off): a stage measures the plan's pods, so KEDA must not resize them.
  "-c",
  `detectorAutoscaling=${plan.detector.autoscaling}`,
  "-c",
  `clusterAdminArn=${access.clusterAdminArn}`,
  ...(access.apiAccessCidrs === undefined || access.apiAccessCidrs.length === 0
    ? []
    : ["-c", `apiAccessCidrs=${access.apiAccessCidrs.join(",")}`]),
];

interface DeploymentStatus {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
}

export class AwsStageRunner implements StageRunner {
  readonly target = "aws" as const;
  readonly #o: AwsRunnerOptions;
  #proxy: ChildProcess | undefined;
  #kube: KubeApi | undefined;
  #forward: PortForwarder | undefined;
  #prometheusClient: PrometheusClient | undefined;
  #rate: number | undefined;
  #lastPlan: SizePlan | undefined;
  #clusterAdmin: Promise<string> | undefined;
  #leaderBalance: LeaderBalanceReadBack | undefined;

  constructor(o: AwsRunnerOptions) {
    this.#o = o;
  }

  get #ctx(): AwsContext {
    return { region: this.#o.region, ...this.#o.aws };
  }

  plan(stage: number): SizePlan {
    return sizePlanFrom({ cassandraNodes: stage, experimentId: this.#o.experimentId, region: this.#o.region, detectorAutoscaling: "off" });
  }

  describe(stage: number): StageDescription {
    const plan = this.plan(stage);
    return {
      name: `stage-${stage}`,
      size: plan.cassandra.nodes,
      sizeUnit: "Cassandra nodes",
      sizes: {
        cassandraNodes: plan.cassandra.nodes,
        kafkaBrokers: plan.kafka.brokers,
        partitions: plan.kafka.partitions,
        detectorProcesses: plan.detector.pods,
        loadgenProcesses: plan.load.pods,
        eksWorkers: plan.eks.workerNodes,
      },
      cores: {
        cassandra: plan.cassandra.nodes * plan.cassandra.vcpus,
        kafka: plan.kafka.brokers * plan.kafka.vcpus,
        workers: plan.eks.workerNodes * plan.eks.vcpus,
        total: plan.totalVcpus,
        shared: false,
      },
      planRate: plan.load.ratePerSecond,
      maxRate: plan.load.ratePerSecond * 2,
      config: { target: "aws", input: plan.input, plan: { ...plan, input: undefined } },
      cost: (hours) => {
        const c = hourlyCost(plan);
        return {
          perHour: c.perHour,
          hours,
          total: c.perHour * hours,
          partial: c.partial,
          priceListAsOf: c.priceListAsOf ?? null,
          note: c.partial ? `lower bound; missing: ${c.missing.join("; ")}` : "cost model: scripts/cost/cost-model.ts",
        };
      },
    };
  }

  async prepare(stage: number, progress: Progress, signal: AbortSignal): Promise<void> {
    const plan = this.plan(stage);
    const previous = this.#lastPlan;
    this.#lastPlan = plan;
    progress.phase("deploy", `cdk deploy (${plan.cassandra.nodes} Cassandra nodes)`);
    await this.deploy(stage, progress, signal);
    this.#rate = plan.load.ratePerSecond;
    const kube = await this.#kubeApi(plan, signal);
    const prometheus = await this.#prometheus(plan, progress, signal);
    const budget = readinessBudget(plan, previous?.cassandra.nodes);
    progress.phase("wait-ready", readinessBudgetText(budget));
    const joins = new JoinProgress(plan.cassandra.nodes, Date.now());
    await waitAwsReady(readinessDeps(this.#ctx, kube, prometheus), plan, {
      timeoutMs: this.#o.readyTimeoutMs ?? budget.timeoutMs,
      intervalMs: 15_000,
      sleep: (ms) => abortableSleep(ms, signal),
      onCheck: (checks) => progress.tick(null, readinessLine(checks, joins, Date.now())),
    });
    // Every stage, not only those that add brokers: a balanced cluster gets no reassignment, and the read-back
    // (leaders per broker) goes into every stage's result.
    progress.phase("rebalance", `partitions over ${plan.kafka.brokers} brokers`);
    this.#leaderBalance = await runRebalanceJob(
      kube,
      awsNames(plan).namespace,
      `partition-rebalance-stage-${stage}-${Date.now().toString(36)}`,
      {
        timeoutMs: this.#o.readyTimeoutMs ?? 60 * 60_000,
        sleep: (ms) => abortableSleep(ms, signal),
        onWait: (what) => progress.tick(null, `waiting for: ${what}`),
      },
    );
    progress.log(
      `leaders per broker (${this.#leaderBalance.reassigned} partitions reassigned): ${JSON.stringify(this.#leaderBalance.leadersPerBroker[topics.events] ?? {})}`,
    );
  }

  async runTrial(stage: number, rate: number, window: LoadWindow, progress: Progress, signal: AbortSignal): Promise<TrialOutcome> {
    const plan = this.plan(stage);
    const kube = await this.#kubeApi(plan, signal);
    const ns = awsNames(plan).namespace;
    const prometheus = await this.#prometheus(plan, progress, signal);
    if (this.#rate !== rate) {
      progress.phase("set-rate", `${rate} events/s`);
      await setLoadRate(kube, ns, rate, signal);
      this.#rate = rate;
    }
    const tick = setInterval(
      () =>
        void prometheus.value(currentChecksQuery).then(
          (v) => progress.tick(v),
          () => {},
        ),
      5_000,
    );
    try {
      progress.phase("warm-up", `${rate} events/s`);
      await abortableSleep(window.warmupSeconds * 1000, signal);
      progress.phase("load", `${rate} events/s`);
      await abortableSleep(window.durationSeconds * 1000, signal);
    } finally {
      clearInterval(tick);
    }
    const end = Date.now();
    progress.phase("read-results");
    // One scrape interval (the charts scrape every 15 s) so the window's end is in Prometheus.
    await abortableSleep(20_000, signal);
    const metrics = await readWindow(prometheus, end, window.durationSeconds);
    const partitions = await prometheus.value(consumedPartitionsQuery(topics.events, window.durationSeconds), end);
    return {
      metrics,
      seconds: window.durationSeconds,
      endedAt: new Date(end),
      partitions: {
        readBack: partitions,
        source: "partitions with a detector_consumer_lag series in the window (Prometheus)",
        ...(this.#leaderBalance === undefined ? {} : { leaderBalance: this.#leaderBalance }),
      },
    };
  }

  async teardown(progress: Progress): Promise<void> {
    this.#stopProxy();
    const plan = this.#lastPlan ?? this.plan(3);
    progress.log("teardown: cdk destroy --all --force");
    const never = new AbortController().signal;
    let destroyError: unknown;
    try {
      await this.#run(
        "cdk",
        [
          "destroy",
          "--all",
          "--force",
          ...cdkContextArgs(plan, { clusterAdminArn: await this.#admin(progress), apiAccessCidrs: this.#o.apiAccessCidrs }),
        ],
        "cdk-destroy.log",
        never,
      );
    } catch (err) {
      destroyError = err;
      progress.log(`cdk destroy failed (${err instanceof Error ? err.message : String(err)}); the sweep deletes what is left`);
    }
    progress.log(`teardown: sweeping resources tagged anomaly-kit:experiment=${plan.experimentId}`);
    const report = await sweepExperiment(this.#ctx, plan.experimentId, { delete: true, log: (m: string) => progress.log(`sweep: ${m}`) });
    if (report.remaining.length > 0) {
      throw new Error(
        `teardown incomplete: ${report.remaining.length} resource(s) remain (${report.remaining.map((e) => `${e.resource.kind} ${e.resource.id}`).join(", ")}); run npm run sweep -- --experiment ${plan.experimentId} --delete`,
      );
    }
    if (destroyError !== undefined) progress.log("the sweep removed what cdk destroy left; nothing remains");
  }

  /**
   * Synthesizes the stage into its own cloud assembly, refuses it when it would change a running Cassandra
   * node's user data (cassandra-user-data-guard.ts), then deploys that same assembly: what was checked is what
   * CloudFormation gets.
   */
  async deploy(stage: number, progress: Progress, signal: AbortSignal): Promise<void> {
    const plan = this.plan(stage);
    const context = cdkContextArgs(plan, { clusterAdminArn: await this.#admin(progress), apiAccessCidrs: this.#o.apiAccessCidrs });
    // One assembly folder per experiment, rewritten by each stage's synth: a stage's assets (the kubectl
    // layer, the image's build context) would otherwise be copied again for every stage.
    const assembly = join(this.#o.workDir, "cdk.out");
    await this.#run("cdk", ["synth", ...context, "--output", assembly, "--quiet"], `cdk-synth-stage-${stage}.log`, signal);
    const stackName = kitStackNames(this.#o.experimentId).cassandra;
    await guardCassandraUserData(this.#ctx, {
      stackName,
      next: assemblyTemplate(assembly, stackName),
      replaceNodes: this.#o.replaceCassandraNodes === true,
      log: (m) => progress.log(m),
    });
    await this.#run("cdk", ["deploy", "--all", "--app", assembly, "--require-approval", "never"], `cdk-deploy-stage-${stage}.log`, signal);
  }

  /** The cluster admin ARN: given, or the caller's (once per run; the CDK app needs it for deploy and destroy). */
  #admin(progress: Progress): Promise<string> {
    if (this.#o.clusterAdminArn !== undefined) return Promise.resolve(this.#o.clusterAdminArn);
    this.#clusterAdmin ??= callerClusterAdmin(this.#ctx).then((a) => {
      progress.log(`cluster admin: ${a.arn} (${a.note})`);
      return a.arn;
    });
    this.#clusterAdmin.catch(() => (this.#clusterAdmin = undefined));
    return this.#clusterAdmin;
  }

  async #kubeApi(plan: SizePlan, signal: AbortSignal): Promise<KubeApi> {
    if (this.#kube !== undefined) return this.#kube;
    if (this.#o.kubeBaseUrl !== undefined) return (this.#kube = new KubeApi(this.#o.kubeBaseUrl));
    const kubeconfig = join(this.#o.workDir, "kubeconfig");
    const names = awsNames(plan);
    await this.#run(
      "aws",
      ["eks", "update-kubeconfig", "--name", names.eksCluster, "--region", plan.region, "--kubeconfig", kubeconfig],
      "kubeconfig.log",
      signal,
    );
    const proxy = spawn("kubectl", ["proxy", "--port=0", "--address=127.0.0.1", `--kubeconfig=${kubeconfig}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#proxy = proxy;
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      proxy.stdout.setEncoding("utf8").on("data", (c: string) => {
        out += c;
        const m = /Starting to serve on ([\d.]+:\d+)/.exec(out);
        if (m) resolve(`http://${m[1]}`);
      });
      proxy.on("exit", (code) => reject(new Error(`kubectl proxy exited (${code}): ${out}`)));
      proxy.on("error", reject);
    });
    return (this.#kube = new KubeApi(url));
  }

  /**
   * The cluster's Prometheus through a supervised port-forward (prometheus-route.ts). Its local port stays the
   * same across restarts, so one client serves the whole experiment.
   */
  async #prometheus(plan: SizePlan, progress: Progress, signal: AbortSignal): Promise<PrometheusClient> {
    if (this.#prometheusClient !== undefined) return this.#prometheusClient;
    if (this.#o.prometheusBaseUrl !== undefined) return (this.#prometheusClient = new PrometheusClient(this.#o.prometheusBaseUrl));
    const forward = new PortForwarder({
      route: prometheusRoute,
      namespace: awsNames(plan).namespace,
      kubeconfig: join(this.#o.workDir, "kubeconfig"),
      onRestart: (exit, n) => progress.log(`kubectl port-forward to Prometheus ended (${exit}); restart ${n}`),
    });
    this.#forward = forward;
    // The Prometheus pod may not exist yet right after the first deploy: keep trying while the stage comes up.
    let last = "";
    const url = await waitFor(
      () =>
        forward.url().catch((err: unknown) => {
          last = err instanceof Error ? err.message.slice(0, 120) : String(err);
          return undefined;
        }),
      {
        what: "prometheus port-forward",
        timeoutMs: this.#o.readyTimeoutMs ?? 45 * 60_000,
        intervalMs: 10_000,
        sleep: (ms) => abortableSleep(ms, signal),
        onWait: () => progress.tick(null, `waiting for: prometheus port-forward (${last})`),
        detail: () => last,
      },
    );
    return (this.#prometheusClient = new PrometheusClient(url));
  }

  #stopProxy(): void {
    if (this.#proxy !== undefined && this.#proxy.exitCode === null) this.#proxy.kill("SIGTERM");
    this.#proxy = undefined;
    this.#kube = undefined;
    this.#forward?.stop();
    this.#forward = undefined;
    this.#prometheusClient = undefined;
  }

  /** Runs a tool as a child process (cdk from node_modules/.bin), output to a log file in the work dir. */
  #run(command: string, args: readonly string[], logName: string, signal: AbortSignal): Promise<void> {
    mkdirSync(this.#o.workDir, { recursive: true });
    const log = createWriteStream(join(this.#o.workDir, logName), { flags: "a" });
    const bin = command === "cdk" ? (this.#o.cdk ?? join(projectRoot, "node_modules", ".bin", "cdk")) : command;
    return new Promise((resolve, reject) => {
      const child = spawn(bin, args, { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      const onAbort = () => child.kill("SIGINT");
      signal.addEventListener("abort", onAbort, { once: true });
      child.on("error", (err) => reject(new Error(`${command}: ${err.message}`)));
      child.on("exit", (code, sig) => {
        signal.removeEventListener("abort", onAbort);
        log.end();
        if (code === 0) resolve();
        else reject(new Error(`${command} ${args.slice(0, 2).join(" ")} failed (${code ?? sig}); see ${join(this.#o.workDir, logName)}`));
      });
    });
  }
}

/** Patches the load generator's rate and waits until the Deployment has rolled out. */
export async function setLoadRate(kube: KubeApi, namespace: string, rate: number, signal: AbortSignal, timeoutMs = 600_000): Promise<void> {
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments/${components.loadGenerator}`;
  await kube.request("PATCH", path, loadRatePatch(rate), "application/strategic-merge-patch+json");
  await waitFor(
    async () => {
      const d = await kube.get<DeploymentStatus>(path);
      const want = d.spec?.replicas ?? 1;
      const s = d.status ?? {};
      return (
        (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
        s.updatedReplicas === want &&
        s.availableReplicas === want &&
        s.replicas === want
      );
    },
    { what: `load generator rollout to ${rate} events/s`, timeoutMs, intervalMs: 2_000, sleep: (ms) => abortableSleep(ms, signal) },
  );
}

/** The Prometheus port the charts expose (for documentation; the port-forward names the port "web"). */
export const prometheusPort = ports.prometheus;
