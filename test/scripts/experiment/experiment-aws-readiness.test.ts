/**
 * The AWS runner's readiness checks, rate change and Prometheus reads against recorded response shapes
 * (EKS and MSK REST JSON, Kubernetes API objects, Prometheus HTTP API) served on loopback to the real SDK
 * clients and to our HTTP clients: ready, each thing not ready, the time-out naming what is missing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sizePlanFrom } from "../../../cdk/size/size-plan.ts";
import type { AwsContext } from "../../../scripts/aws/aws-context.ts";
import {
  consumedPartitionsQuery,
  PrometheusClient,
  PrometheusError,
  readWindow,
  windowQueries,
} from "../../../scripts/experiment/prometheus-query.ts";
import {
  cassandraRingReadiness,
  checkAwsReadiness,
  KubeApi,
  NotReadyError,
  ReadinessFailedError,
  readinessDeps,
  ringQueries,
  waitAwsReady,
} from "../../../scripts/experiment/readiness.ts";
import { AwsStageRunner, cdkContextArgs, loadRatePatch, setLoadRate } from "../../../scripts/experiment/stage-runner-aws.ts";
import { cassandraSetupFailedMarker } from "../../../cdk/cassandra-user-data.ts";
import { jsonReply, ReplayServer, restJsonReply, testCredentials, xmlReply, type Exchange } from "../../recorded/replay-server.ts";
import { recorded } from "../../recorded/recorded.ts";

const rest = (match: string | RegExp, file: string, extra: Partial<Exchange> = {}): Exchange => ({
  match,
  ...restJsonReply(recorded(file)),
  ...extra,
});

const server = new ReplayServer();
let ctx: AwsContext;
let kube: KubeApi;
let prometheus: PrometheusClient;
// The recordings are of a stage planned with the history read every check (6 detector pods at stage 3).
const plan = sizePlanFrom({ cassandraNodes: 3, experimentId: "exp-a", detectorHistory: "read" });
/** Prometheus sits behind a kubectl port-forward (prometheus-route.ts); here under a path of the replay server. */
const promPath = "/prometheus";
const promQuery = (q: RegExp) => new RegExp(`^GET ${promPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/api/v1/query\\?query=${q.source}`);

beforeAll(async () => {
  const endpoint = await server.start();
  ctx = { region: "us-east-1", endpoint, credentials: testCredentials, maxAttempts: 1 };
  kube = new KubeApi(endpoint);
  prometheus = new PrometheusClient(`${endpoint}${promPath}`);
});
afterAll(() => server.stop());
afterEach(() => {
  const unmatched = server.unmatched.map((r) => r.key);
  server.reset();
  expect(unmatched).toEqual([]);
});

type RingFiles = Record<keyof typeof ringQueries, string>;
const ringReady: RingFiles = {
  up: "prometheus/up-cassandra.3-up.json",
  joined: "prometheus/ring-joined.3.json",
  bootstrapMode: "prometheus/ring-bootstrapmode.none.json",
  upEndpoints: "prometheus/ring-upendpoints.3.json",
  downEndpoints: "prometheus/ring-downendpoints.none.json",
};
/** The third node's exporter answers (its JVM runs) but it is still bootstrapping into the ring. */
const ringThirdJoining: Partial<RingFiles> = {
  joined: "prometheus/ring-joined.2-of-3.json",
  bootstrapMode: "prometheus/ring-bootstrapmode.third-joining.json",
};
const queryParam = (q: string) => new URLSearchParams({ query: q }).toString().replace(/^query=/, "");
const ringExchanges = (over: Partial<RingFiles>): Exchange[] =>
  (Object.keys(ringQueries) as (keyof typeof ringQueries)[]).map((k) =>
    rest(
      new RegExp(`^GET ${promPath}/api/v1/query\\?query=${queryParam(ringQueries[k]).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(&|$)`),
      over[k] ?? ringReady[k],
    ),
  );

const schemaJobs =
  /^GET \/apis\/batch\/v1\/namespaces\/exp-a\/jobs\?labelSelector=app\.kubernetes\.io%2Fname%3Dschema%2Capp\.kubernetes\.io%2Fpart-of%3Danomaly-kit$/;
/** Node 0 found by its Name tag (running or pending), then the CA certificate secret its tag names. */
const setupExchanges = (over: { node0?: string; secret?: string } = {}): Exchange[] => [
  {
    match: "DescribeInstances",
    when: (r) =>
      r.form.get("Filter.1.Name") === "tag:Name" &&
      r.form.get("Filter.1.Value.1") === "exp-a-CassandraNode01" &&
      r.form.get("Filter.2.Name") === "instance-state-name",
    ...xmlReply(recorded(over.node0 ?? "ec2/DescribeInstances.cassandra-node-0.xml")),
  },
  ...(over.node0 === undefined
    ? [
        {
          match: "GetSecretValue",
          when: (r: { body: string }) => r.body.includes("ClusterCaCertificate8E2F41C7"),
          ...jsonReply(recorded(over.secret ?? "secretsmanager/GetSecretValue.ca-certificate.json")),
        },
      ]
    : []),
];

const readyExchanges = (
  over: Partial<Record<"nodegroup" | "msk" | "pods" | "jobs", string>> & {
    ring?: Partial<RingFiles>;
    setup?: { node0?: string; secret?: string };
  } = {},
): Exchange[] => [
  rest("GET /clusters/exp-a-eks", "eks/DescribeCluster.active.json"),
  rest(/^GET \/clusters\/exp-a-eks\/node-groups(\?|$)/, "eks/ListNodegroups.one.json"),
  rest(/^GET \/clusters\/exp-a-eks\/node-groups\/Workers/, over.nodegroup ?? "eks/DescribeNodegroup.active-2.json"),
  rest("GET /api/v1/nodes", "kubernetes/nodes.two-ready.json"),
  rest("GET /api/v1/namespaces/exp-a/pods", over.pods ?? "kubernetes/pods.all-ready.json"),
  rest(/^GET \/api\/v2\/clusters\?clusterNameFilter=exp-a-kafka/, over.msk ?? "kafka/ListClustersV2.active-3.json"),
  ...ringExchanges(over.ring ?? {}),
  ...setupExchanges(over.setup),
  rest(schemaJobs, over.jobs ?? "kubernetes/jobs.schema-succeeded.json"),
];

describe("AWS readiness", () => {
  it("the plan of stage 3 is what the recordings hold (2 workers, 3 brokers, 6 detector pods)", () => {
    expect([plan.eks.workerNodes, plan.kafka.brokers, plan.detector.pods, plan.load.pods, plan.cassandra.nodes]).toEqual([2, 3, 6, 1, 3]);
  });

  it("is ready when the cluster, node group, nodes, pods, MSK, every Cassandra node (Up/Normal), node 0's set-up and the schema Job are", async () => {
    server.add(...readyExchanges());
    const checks = await checkAwsReadiness(readinessDeps(ctx, kube, prometheus), plan);
    expect(checks.filter((c) => !c.ready)).toEqual([]);
    expect(Object.fromEntries(checks.map((c) => [c.name, c.detail]))).toEqual({
      "eks cluster": "exp-a-eks ACTIVE",
      "eks node groups": "2 node(s) ACTIVE",
      "kubernetes nodes": "2/2 Ready",
      pods: "detector 6/6, load-generator 1/1, prometheus 1/1",
      "msk cluster": "exp-a-kafka ACTIVE, 3 brokers",
      "cassandra nodes": "3/3 joined, 3/3 Up/Normal",
      "cassandra set-up": "node 0's set-up ended; CA certificate published",
      "schema job": "schema-c0ffee1234ab succeeded: CQL answered over TLS as detector",
    });
  });

  it("is not ready while node 0's set-up runs, node 0 is not launched, or the newest schema Job has not succeeded", async () => {
    server.add(
      ...readyExchanges({
        setup: { secret: "secretsmanager/GetSecretValue.placeholder.json" },
        jobs: "kubernetes/jobs.schema-new-running.json",
      }),
    );
    let notReady = Object.fromEntries(
      (await checkAwsReadiness(readinessDeps(ctx, kube, prometheus), plan)).filter((c) => !c.ready).map((c) => [c.name, c.detail]),
    );
    expect(notReady).toEqual({
      "cassandra set-up": "node 0's set-up still running",
      "schema job": "schema-5eed9876fedc running (1 failed attempt(s))",
    });
    server.reset();
    server.add(...readyExchanges({ setup: { node0: "ec2/DescribeInstances.none.xml" } }));
    notReady = Object.fromEntries(
      (await checkAwsReadiness(readinessDeps(ctx, kube, prometheus), plan)).filter((c) => !c.ready).map((c) => [c.name, c.detail]),
    );
    expect(notReady).toEqual({ "cassandra set-up": "node 0 (exp-a-CassandraNode01) not running yet" });
  });

  it("fails at once, quoting node 0's error, when node 0's set-up failed, though every node is Up/Normal", async () => {
    let t = 0;
    const fake = { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
    server.add(...readyExchanges({ setup: { secret: "secretsmanager/GetSecretValue.setup-failed.json" } }));
    const err = await waitAwsReady(readinessDeps(ctx, kube, prometheus), plan, { timeoutMs: 3_600_000, intervalMs: 15_000, ...fake }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReadinessFailedError);
    expect(t).toBe(0);
    const message = (err as Error).message;
    expect(message).toMatch(
      new RegExp(
        `^cannot become ready: cassandra set-up \\(node 0 \\(exp-a-CassandraNode01\\): ${cassandraSetupFailedMarker} exit 1 at line 212: bash /root/cassandra-auth/cassandra-auth-setup.sh\n`,
      ),
    );
    expect(message).toContain("the default superuser did not answer within 1800 s");
    const checks = (err as ReadinessFailedError).checks;
    expect(checks.find((c) => c.name === "cassandra nodes")).toMatchObject({ ready: true });
  });

  it("names each thing that is not ready: node group updating with a launch failure, MSK creating, a pod starting, a Cassandra node down", async () => {
    server.add(
      ...readyExchanges({
        nodegroup: "eks/DescribeNodegroup.updating-vcpu-limit.json",
        msk: "kafka/ListClustersV2.creating.json",
        pods: "kubernetes/pods.detector-starting.json",
        ring: { up: "prometheus/up-cassandra.2-up.json" },
      }),
    );
    const checks = await checkAwsReadiness(readinessDeps(ctx, kube, prometheus), plan);
    const notReady = Object.fromEntries(checks.filter((c) => !c.ready).map((c) => [c.name, c.detail]));
    const launchFailure: unknown = expect.stringMatching(
      /UPDATING; .*AsgInstanceLaunchFailures Could not launch On-Demand Instances\. VcpuLimitExceeded; desired size 1, plan 2/,
    );
    expect(notReady).toEqual({
      "eks node groups": launchFailure,
      pods: "detector 5/6, load-generator 1/1, prometheus 1/1",
      "msk cluster": "state CREATING",
      "cassandra nodes": "2/3 joined, 2/3 Up/Normal; exporters 2/3 up",
    });
  });

  it("turns an API error into a not-ready check instead of failing the wait", async () => {
    server.add(...readyExchanges().filter((e) => e.match !== "GET /clusters/exp-a-eks"), {
      match: "GET /clusters/exp-a-eks",
      ...restJsonReply('{"message":"No cluster found for name: exp-a-eks."}', 404, "ResourceNotFoundException"),
    });
    const checks = await checkAwsReadiness(readinessDeps(ctx, kube, prometheus), plan);
    const notFound: unknown = expect.stringContaining("No cluster found");
    expect(checks.find((c) => c.name === "eks cluster")).toMatchObject({ ready: false, detail: notFound });
  });

  it("waits until ready, and times out naming what is still missing", async () => {
    let t = 0;
    const fake = { now: () => t, sleep: (ms: number) => ((t += ms), Promise.resolve()) };
    server.add(...readyExchanges({ msk: "kafka/ListClustersV2.creating.json" }), ...readyExchanges());
    const seen: number[] = [];
    const done = await waitAwsReady(readinessDeps(ctx, kube, prometheus), plan, {
      timeoutMs: 60_000,
      intervalMs: 15_000,
      ...fake,
      onCheck: (c) => seen.push(c.filter((x) => !x.ready).length),
    });
    expect(seen).toEqual([1, 0]);
    expect(done.every((c) => c.ready)).toBe(true);

    server.reset();
    t = 0;
    for (let i = 0; i < 3; i++) server.add(...readyExchanges({ ring: ringThirdJoining }));
    const err = await waitAwsReady(readinessDeps(ctx, kube, prometheus), plan, { timeoutMs: 30_000, intervalMs: 15_000, ...fake }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotReadyError);
    expect((err as Error).message).toBe("not ready after 30 s: cassandra nodes (2/3 joined, 2/3 Up/Normal; not yet: 10.0.3.10 not joined)");
  });
});

describe("Cassandra ring readiness (exporter ring metrics)", () => {
  it("is not ready while a node whose exporter answers is still joining, and says how far the join is", async () => {
    server.add(...ringExchanges(ringThirdJoining));
    expect(await cassandraRingReadiness(prometheus, 3)).toEqual({
      ready: false,
      detail: "2/3 joined, 2/3 Up/Normal; not yet: 10.0.3.10 not joined",
      joined: { done: 2, of: 3 },
    });
  });

  it("is not ready while a joined node sees a peer down", async () => {
    server.add(
      ...ringExchanges({
        upEndpoints: "prometheus/ring-upendpoints.one-down.json",
        downEndpoints: "prometheus/ring-downendpoints.one-down.json",
      }),
    );
    const r = await cassandraRingReadiness(prometheus, 3);
    expect(r.ready).toBe(false);
    expect(r.detail).toBe("3/3 joined, 0/3 Up/Normal; not yet: 10.0.1.10 sees 2/3 up, 10.0.2.10 sees 2/3 up, 10.0.3.10 sees 2/3 up");
  });

  it("queries the metric names cdk/servers/cassandra-exporter.ts defines, on the exporters' series", () => {
    expect(Object.values(ringQueries)).toEqual([
      'up{server="cassandra"}',
      'org_apache_cassandra_db_storageservice_joined{server="cassandra"}',
      'org_apache_cassandra_db_storageservice_bootstrapmode{server="cassandra"}',
      'org_apache_cassandra_net_failuredetector_upendpointcount{server="cassandra"}',
      'org_apache_cassandra_net_failuredetector_downendpointcount{server="cassandra"}',
    ]);
  });
});

describe("load rate and Prometheus reads", () => {
  it("patches the load generator's LOADGEN_RATE (strategic merge) and waits for the rollout", async () => {
    const path = "/apis/apps/v1/namespaces/exp-a/deployments/load-generator";
    server.add(
      rest(`PATCH ${path}`, "kubernetes/deployment.load-generator.rolling.json"),
      rest(`GET ${path}`, "kubernetes/deployment.load-generator.rolling.json"),
      rest(`GET ${path}`, "kubernetes/deployment.load-generator.rolled-out.json"),
    );
    await setLoadRate(kube, "exp-a", 20_000, new AbortController().signal);
    const patch = server.requests[0]!;
    expect(patch.headers["content-type"]).toBe("application/strategic-merge-patch+json");
    expect(JSON.parse(patch.body)).toEqual(loadRatePatch(20_000));
    expect(JSON.parse(patch.body)).toEqual({
      spec: { template: { spec: { containers: [{ name: "load-generator", env: [{ name: "LOADGEN_RATE", value: "20000" }] }] } } },
    });
    expect(server.keys()).toHaveLength(3);
  });

  it("reads a window's figures from Prometheus; absent counters are 0, absent latencies null", async () => {
    const q = windowQueries(1800);
    expect(q.p99).toBe("histogram_quantile(0.99, sum by (le) (increase(detector_end_to_end_latency_seconds_bucket[1800s])))");
    server.add(
      rest(promQuery(/sum%28rate%28detector_checks_total/), "prometheus/vector-one.json"),
      rest(promQuery(/histogram_quantile%280\.99%2C/), "prometheus/vector-one.json"),
      rest(/\/api\/v1\/query\?/, "prometheus/vector-empty.json", { repeat: true }),
    );
    const w = await readWindow(prometheus, Date.parse("2026-11-01T00:30:00Z"), 1800);
    expect(w.checksPerSecond).toBe(1234.5);
    expect(w.latencyMs).toEqual({ p50: null, p99: 1234500, p999: null });
    expect(w.anomalies).toBe(0);
    expect(w.errors).toEqual({ detector: 0, deadLetters: 0, sendFailures: 0 });
    expect(server.requests.every((r) => r.path.includes("&time=1793493000.000"))).toBe(true);
  });

  it("reads the events topic's partitions back as those the detectors consumed (one lag series per partition)", async () => {
    const q = consumedPartitionsQuery("events", 600);
    expect(q).toBe('count(count by (partition) (last_over_time(detector_consumer_lag{topic="events"}[600s])))');
    server.add(rest(promQuery(new RegExp(queryParam(q).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))), "prometheus/consumed-partitions.12.json"));
    expect(await prometheus.value(q)).toBe(12);
  });

  it("reports Prometheus's own error", async () => {
    server.add(rest(/\/api\/v1\/query\?/, "prometheus/bad-data.json", { status: 400 }));
    await expect(prometheus.query("up{")).rejects.toThrow(PrometheusError);
  });
});

describe("AWS stage description", () => {
  it("takes sizes, cores per tier, rate and cost from the size plan and the cost model; cdk gets the stage's context", () => {
    const runner = new AwsStageRunner({ experimentId: "exp-a", workDir: "/tmp/unused", region: "us-east-1", keep: true });
    const d = runner.describe(12);
    const p = sizePlanFrom({ cassandraNodes: 12, experimentId: "exp-a" });
    expect(d.sizes).toMatchObject({
      cassandraNodes: 12,
      kafkaBrokers: p.kafka.brokers,
      partitions: p.kafka.partitions,
      detectorProcesses: p.detector.pods,
    });
    expect(d.cores).toEqual({
      cassandra: 96,
      kafka: p.kafka.brokers * p.kafka.vcpus,
      workers: p.eks.workerNodes * p.eks.vcpus,
      total: p.totalVcpus,
      shared: false,
    });
    expect(d.planRate).toBe(p.load.ratePerSecond);
    const cost = d.cost(0.5);
    expect(cost.perHour).toBeGreaterThan(0);
    expect(cost.total).toBeCloseTo(cost.perHour! * 0.5, 10);
    const admin = "arn:aws:iam::123456789012:role/experiment-operator";
    expect(cdkContextArgs(p, { clusterAdminArn: admin })).toEqual([
      "-c",
      "cassandraNodes=12",
      "-c",
      "experimentId=exp-a",
      "-c",
      "region=us-east-1",
      "-c",
      "detectorAutoscaling=off",
      "-c",
      `clusterAdminArn=${admin}`,
    ]);
    expect(cdkContextArgs(p, { clusterAdminArn: admin, apiAccessCidrs: ["203.0.113.7/32"] }).slice(-2)).toEqual([
      "-c",
      "apiAccessCidrs=203.0.113.7/32",
    ]);
  });
});
