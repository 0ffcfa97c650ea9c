/**
 * Is an AWS stage ready? Every check names what it waits for:
 * - EKS: the cluster ACTIVE; its managed node groups ACTIVE, without health issues, at the plan's size
 *   (DescribeCluster, ListNodegroups, DescribeNodegroup); the Kubernetes nodes Ready (GET /api/v1/nodes);
 * - pods: the detector, load generator and Prometheus pods Ready in the experiment's namespace (GET …/pods);
 * - MSK: the cluster ACTIVE with the plan's broker count (ListClustersV2 by name);
 * - Cassandra: every planned node Up/Normal, from the ring metrics its JMX exporter publishes
 *   (cdk/servers/cassandra-exporter.ts): joined, not bootstrapping, and seeing every planned node up with none
 *   down. The exporter answering only means the JVM started; a 48-node ring joins one node at a time for a long
 *   while after that, so the check reports progress ("31/48 joined");
 * - node 0's set-up ended, and CQL answers over TLS as the detector role (cassandra-setup-readiness.ts). A
 *   failed set-up is fatal: the wait ends at once with node 0's error.
 * The Kubernetes API is reached through `kubectl proxy` (stage-runner-aws.ts), so it is plain HTTP here.
 */
import { setTimeout as pause } from "node:timers/promises";
import { DescribeClusterCommand, DescribeNodegroupCommand, EKSClient, ListNodegroupsCommand } from "@aws-sdk/client-eks";
import { EC2Client } from "@aws-sdk/client-ec2";
import { KafkaClient, ListClustersV2Command } from "@aws-sdk/client-kafka";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { cassandraRingMetrics } from "../../cdk/servers/cassandra-exporter.ts";
import type { SizePlan } from "../../cdk/size/size-plan.ts";
import { clientConfig, errorMessage, type AwsContext } from "../aws/aws-context.ts";
import { cassandraSetupReadiness, schemaJobReadiness } from "./cassandra-setup-readiness.ts";
import type { PrometheusClient } from "./prometheus-query.ts";

export interface ReadinessCheck {
  readonly name: string;
  readonly ready: boolean;
  readonly detail: string;
  /** Will never become ready (node 0's set-up failed): the wait ends at once. */
  readonly fatal?: boolean;
  /** Cassandra nodes joined of those planned, for the progress line. */
  readonly joined?: { readonly done: number; readonly of: number };
}

/** A minimal Kubernetes API client over a base URL (kubectl proxy: no auth needed on loopback). */
export class KubeApi {
  readonly baseUrl: string;
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
  }
  async request<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": contentType },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Kubernetes API ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }
}

interface Condition {
  type: string;
  status: string;
}
interface PodList {
  items: { metadata: { name: string; labels?: Record<string, string> }; status?: { phase?: string; conditions?: Condition[] } }[];
}
interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: Condition[] } }[];
}

export interface ReadinessDeps {
  readonly eks: EKSClient;
  readonly kafka: KafkaClient;
  readonly ec2: EC2Client;
  readonly secrets: SecretsManagerClient;
  readonly kube: KubeApi;
  readonly prometheus: PrometheusClient;
}

export const readinessDeps = (ctx: AwsContext, kube: KubeApi, prometheus: PrometheusClient): ReadinessDeps => ({
  eks: new EKSClient(clientConfig(ctx)),
  kafka: new KafkaClient(clientConfig(ctx)),
  ec2: new EC2Client(clientConfig(ctx)),
  secrets: new SecretsManagerClient(clientConfig(ctx)),
  kube,
  prometheus,
});

/** The names the CDK app gives (cdk/eks-stack.ts, cdk/kafka-stack.ts) and the charts' labels and namespace. */
export const awsNames = (plan: SizePlan) => ({
  eksCluster: `${plan.experimentId}-eks`,
  mskCluster: `${plan.experimentId}-kafka`,
  namespace: plan.experimentId,
});

const isReady = (conditions: Condition[] | undefined, type: string) =>
  conditions?.some((c) => c.type === type && c.status === "True") === true;

/** Runs one check, turning an error into "not ready" with the error as its detail. */
async function check(name: string, f: () => Promise<Omit<ReadinessCheck, "name">>): Promise<ReadinessCheck> {
  try {
    return { name, ...(await f()) };
  } catch (err) {
    return { name, ready: false, detail: errorMessage(err) };
  }
}

export async function checkAwsReadiness(deps: ReadinessDeps, plan: SizePlan): Promise<ReadinessCheck[]> {
  const names = awsNames(plan);
  return Promise.all([
    check("eks cluster", async () => {
      const { cluster } = await deps.eks.send(new DescribeClusterCommand({ name: names.eksCluster }));
      return { ready: cluster?.status === "ACTIVE", detail: `${names.eksCluster} ${cluster?.status ?? "missing"}` };
    }),
    check("eks node groups", async () => {
      const { nodegroups = [] } = await deps.eks.send(new ListNodegroupsCommand({ clusterName: names.eksCluster }));
      if (nodegroups.length === 0) return { ready: false, detail: "no node group yet" };
      const groups = await Promise.all(
        nodegroups.map(
          async (n) => (await deps.eks.send(new DescribeNodegroupCommand({ clusterName: names.eksCluster, nodegroupName: n }))).nodegroup,
        ),
      );
      const notActive = groups.filter((g) => g?.status !== "ACTIVE").map((g) => `${g?.nodegroupName} ${g?.status}`);
      const issues = groups.flatMap((g) =>
        (g?.health?.issues ?? []).map((i) => `${g?.nodegroupName}: ${i.code} ${i.message ?? ""}`.trim()),
      );
      const desired = groups.reduce((sum, g) => sum + (g?.scalingConfig?.desiredSize ?? 0), 0);
      const problems = [
        ...notActive,
        ...issues,
        ...(desired === plan.eks.workerNodes ? [] : [`desired size ${desired}, plan ${plan.eks.workerNodes}`]),
      ];
      return { ready: problems.length === 0, detail: problems.length === 0 ? `${desired} node(s) ACTIVE` : problems.join("; ") };
    }),
    check("kubernetes nodes", async () => {
      const nodes = await deps.kube.get<NodeList>("/api/v1/nodes");
      const ready = nodes.items.filter((n) => isReady(n.status?.conditions, "Ready")).length;
      return { ready: ready >= plan.eks.workerNodes, detail: `${ready}/${plan.eks.workerNodes} Ready` };
    }),
    check("pods", async () => {
      const pods = await deps.kube.get<PodList>(`/api/v1/namespaces/${encodeURIComponent(names.namespace)}/pods`);
      const readyOf = (component: string) =>
        pods.items.filter((p) => p.metadata.labels?.["app.kubernetes.io/name"] === component && isReady(p.status?.conditions, "Ready"))
          .length;
      const want = { detector: plan.detector.pods, "load-generator": plan.load.pods, prometheus: 1 };
      const short = Object.entries(want).filter(([c, n]) => readyOf(c) < n);
      return {
        ready: short.length === 0,
        detail: Object.entries(want)
          .map(([c, n]) => `${c} ${readyOf(c)}/${n}`)
          .join(", "),
      };
    }),
    check("msk cluster", async () => {
      const { ClusterInfoList = [] } = await deps.kafka.send(new ListClustersV2Command({ ClusterNameFilter: names.mskCluster }));
      const cluster = ClusterInfoList.find((c) => c.ClusterName === names.mskCluster);
      if (cluster === undefined) return { ready: false, detail: `${names.mskCluster} not found` };
      const brokers = cluster.Provisioned?.NumberOfBrokerNodes;
      const problems = [
        ...(cluster.State === "ACTIVE" ? [] : [`state ${cluster.State}`]),
        ...(brokers === plan.kafka.brokers ? [] : [`${brokers ?? "?"} brokers, plan ${plan.kafka.brokers}`]),
      ];
      return {
        ready: problems.length === 0,
        detail: problems.length === 0 ? `${names.mskCluster} ACTIVE, ${brokers} brokers` : problems.join("; "),
      };
    }),
    check("cassandra nodes", () => cassandraRingReadiness(deps.prometheus, plan.cassandra.nodes)),
    check("cassandra set-up", () => cassandraSetupReadiness(deps.ec2, deps.secrets, plan)),
    check("schema job", () => schemaJobReadiness(deps.kube, names.namespace)),
  ]);
}

/** The Cassandra exporters' series carry this label (the charts' ScrapeConfig for them). */
const cassandraSeries = `{server="cassandra"}`;

/** The ring-state queries, per node (exported for the tests). */
export const ringQueries = {
  up: `up${cassandraSeries}`,
  joined: `${cassandraRingMetrics.joined}${cassandraSeries}`,
  bootstrapMode: `${cassandraRingMetrics.bootstrapMode}${cassandraSeries}`,
  upEndpoints: `${cassandraRingMetrics.upEndpoints}${cassandraSeries}`,
  downEndpoints: `${cassandraRingMetrics.downEndpoints}${cassandraSeries}`,
} as const;

/**
 * Every planned node Up/Normal: its exporter up, joined, not bootstrapping, seeing at least `nodes` endpoints
 * up (the failure detector counts the node itself) and none down. Nodes are told apart by the scrape's
 * `instance` label. The detail leads with the join progress and names the first nodes still missing.
 */
export async function cassandraRingReadiness(prometheus: PrometheusClient, nodes: number): Promise<Omit<ReadinessCheck, "name">> {
  const entries = await Promise.all(Object.entries(ringQueries).map(async ([k, q]) => [k, await prometheus.query(q)] as const));
  const byInstance = Object.fromEntries(
    entries.map(([k, samples]) => [k, new Map(samples.map((x) => [x.metric.instance ?? "?", x.value]))]),
  ) as Record<keyof typeof ringQueries, Map<string, number>>;
  const instances = [...byInstance.up.keys()].sort();
  const exportersUp = instances.filter((i) => byInstance.up.get(i) === 1);
  const joined = exportersUp.filter((i) => byInstance.joined.get(i) === 1);
  const why = (i: string): string | null => {
    const host = i.replace(/:\d+$/, "");
    if (byInstance.joined.get(i) !== 1) return `${host} not joined`;
    if (byInstance.bootstrapMode.get(i) !== 0) return `${host} bootstrapping`;
    const seen = byInstance.upEndpoints.get(i);
    if (seen === undefined || seen < nodes) return `${host} sees ${seen ?? "?"}/${nodes} up`;
    const down = byInstance.downEndpoints.get(i);
    if (down === undefined || down > 0) return `${host} sees ${down ?? "?"} down`;
    return null;
  };
  const missing = exportersUp.map(why).filter((w): w is string => w !== null);
  const upNormal = exportersUp.length - missing.length;
  const notes = [
    ...(exportersUp.length < nodes ? [`exporters ${exportersUp.length}/${nodes} up`] : []),
    ...(missing.length > 0
      ? [`not yet: ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}`]
      : []),
  ];
  return {
    ready: upNormal === nodes && exportersUp.length === nodes,
    joined: { done: joined.length, of: nodes },
    detail: `${joined.length}/${nodes} joined, ${upNormal}/${nodes} Up/Normal${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`,
  };
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly onCheck?: (checks: readonly ReadinessCheck[]) => void;
}

export class NotReadyError extends Error {
  override name = "NotReadyError";
  readonly checks: readonly ReadinessCheck[];
  constructor(checks: readonly ReadinessCheck[], timeoutMs: number) {
    super(
      `not ready after ${Math.round(timeoutMs / 1000)} s: ${checks
        .filter((c) => !c.ready)
        .map((c) => `${c.name} (${c.detail})`)
        .join("; ")}`,
    );
    this.checks = checks;
  }
}

/** A check that can never become ready (node 0's set-up failed): the stage fails without waiting out its budget. */
export class ReadinessFailedError extends Error {
  override name = "ReadinessFailedError";
  readonly checks: readonly ReadinessCheck[];
  constructor(checks: readonly ReadinessCheck[]) {
    super(
      `cannot become ready: ${checks
        .filter((c) => c.fatal === true)
        .map((c) => `${c.name} (${c.detail})`)
        .join("; ")}`,
    );
    this.checks = checks;
  }
}

/**
 * Polls until every check is ready; throws ReadinessFailedError at once when a check is fatal, and
 * NotReadyError naming what is not ready when the time is up.
 */
export async function waitAwsReady(deps: ReadinessDeps, plan: SizePlan, o: WaitOptions): Promise<readonly ReadinessCheck[]> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => pause(ms));
  const deadline = now() + o.timeoutMs;
  for (;;) {
    const checks = await checkAwsReadiness(deps, plan);
    o.onCheck?.(checks);
    if (checks.every((c) => c.ready)) return checks;
    if (checks.some((c) => c.fatal === true)) throw new ReadinessFailedError(checks);
    if (now() >= deadline) throw new NotReadyError(checks, o.timeoutMs);
    await sleep(o.intervalMs);
  }
}
