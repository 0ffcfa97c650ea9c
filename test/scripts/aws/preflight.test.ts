/**
 * Preflight against recorded AWS responses, replayed on loopback to the real SDK clients (and to the real AWS
 * CLI for IAM GetRole), and the tools' recorded version outputs: the happy path, throttling retried, and each
 * failure naming the quota, zone, tool or setting to change; images the lock leaves pinned by tag are named.
 */
import { describe, expect, it } from "vitest";
import { failed, type CheckResult } from "../../../scripts/aws/check-result.ts";
import { runPreflight, type PreflightOptions } from "../../../scripts/aws/preflight-checks.ts";
import type { ToolRunner } from "../../../scripts/aws/tools-check.ts";
import { preflightReport } from "../../../scripts/aws/preflight-report.ts";
import { parseStages } from "../../../scripts/cost/stages.ts";
import { jsonReply, restJsonReply, xmlReply, type Exchange, type ReplayRequest, useReplayServer } from "../../recorded/replay-server.ts";
import { recorded } from "../../recorded/recorded.ts";
import { requireAwsCli } from "./aws-cli-required.ts";

const { server, ctx } = useReplayServer();

const quotaCode = (code: string) => (r: ReplayRequest) => (JSON.parse(r.body) as { QuotaCode?: string }).QuotaCode === code;

const identity: Exchange = { match: "GetCallerIdentity", ...xmlReply(recorded("sts/GetCallerIdentity.xml")) };
const bootstrap: Exchange = { match: "GetParameter", ...jsonReply(recorded("ssm/GetParameter.cdk-bootstrap-version.json")) };
const vcpuQuota: Exchange = {
  match: "GetServiceQuota",
  when: quotaCode("L-1216C47A"),
  ...jsonReply(recorded("service-quotas/GetServiceQuota.L-1216C47A.json")),
};
const instances: Exchange = { match: "DescribeInstances", ...xmlReply(recorded("ec2/DescribeInstances.running.xml")) };
const offerings: Exchange[] = [
  {
    match: "DescribeInstanceTypeOfferings",
    when: (r) => !r.form.has("NextToken"),
    ...xmlReply(recorded("ec2/DescribeInstanceTypeOfferings.page-1.xml")),
  },
  {
    match: "DescribeInstanceTypeOfferings",
    when: (r) => r.form.has("NextToken"),
    ...xmlReply(recorded("ec2/DescribeInstanceTypeOfferings.page-2.xml")),
  },
];
const mskAccountDefault: Exchange[] = [
  {
    match: "GetServiceQuota",
    when: quotaCode("L-EDD31C36"),
    ...jsonReply(recorded("service-quotas/GetServiceQuota.no-such-resource.json"), 400),
  },
  {
    match: "GetAWSDefaultServiceQuota",
    when: quotaCode("L-EDD31C36"),
    ...jsonReply(recorded("service-quotas/GetAWSDefaultServiceQuota.L-EDD31C36.json")),
  },
];
const mskCluster: Exchange = {
  match: "GetServiceQuota",
  when: quotaCode("L-FAB9E493"),
  ...jsonReply(recorded("service-quotas/GetServiceQuota.L-FAB9E493.json")),
};
const clusters: Exchange = { match: "GET /api/v2/clusters", ...restJsonReply(recorded("kafka/ListClustersV2.json")) };

const zonesHealthy: Exchange = { match: "DescribeAvailabilityZones", ...xmlReply(recorded("ec2/DescribeAvailabilityZones.us-east-1.xml")) };
const getRole: Exchange = { match: "GetRole", ...xmlReply(recorded("iam/GetRole.with-path.xml")) };
/** What a healthy account answers after identity, bootstrap and quotas: instances, offerings, MSK, zones. */
const healthyAccount: readonly Exchange[] = [instances, ...offerings, ...mskAccountDefault, mskCluster, clusters, zonesHealthy];

/** docker, aws and kubectl answering with the outputs recorded from the real tools (aws: v2 unless `awsV1`). */
const recordedTools =
  (awsV1 = false): ToolRunner =>
  (command) => {
    const file = {
      docker: "docker--version.txt",
      aws: awsV1 ? "aws--version.v1.txt" : "aws--version.v2.txt",
      kubectl: "kubectl-version-client.json",
    }[command];
    return file === undefined
      ? Promise.reject(Object.assign(new Error(`spawn ${command} ENOENT`), { code: "ENOENT" }))
      : Promise.resolve(recorded(`tools/${file}`));
  };
const options = (o: Partial<PreflightOptions> = {}): PreflightOptions => ({ runTool: recordedTools(), ...o });

const byCheck = (results: CheckResult[], check: string) => {
  const r = results.find((x) => x.check === check);
  expect(r, check).toBeDefined();
  return r!;
};

describe("preflight", () => {
  it("passes a healthy account for 3 → 48, retrying a throttled call", async () => {
    requireAwsCli(); // the cluster admin check's GetRole; without it that check would pass as a mere warning
    server.add(
      identity,
      bootstrap,
      {
        match: "GetServiceQuota",
        when: quotaCode("L-1216C47A"),
        ...jsonReply(recorded("service-quotas/GetServiceQuota.too-many-requests.json"), 400),
      },
      vcpuQuota,
      ...healthyAccount,
      getRole,
    );
    const results = await runPreflight(ctx, parseStages("3,6,12,24,48"), options({ imageLock: { images: {} } }));
    expect(failed(results)).toEqual([]);
    // The cluster admin passes (not a warning): the role's ARN with the path GetRole gave.
    expect(byCheck(results, "cluster admin")).toMatchObject({
      status: "pass",
      detail: expect.stringContaining("role/teams/platform/experiment-operator") as unknown,
    });
    // An image lock without digests: every image is named, with the command that pins them (a warning only).
    const pins = byCheck(results, "image pins");
    expect(pins.status).toBe("warn");
    expect(pins.detail).toBe(
      "6 of 6 images pinned only by tag: quay.io/prometheus-operator/prometheus-operator:v0.93.0 (charts: prometheusOperator), " +
        "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.0 (charts: prometheusConfigReloader), " +
        "quay.io/prometheus/prometheus (the Prometheus Operator's default version) (charts: prometheus), grafana/grafana:12.4.10 (charts: grafana), " +
        "jaegertracing/jaeger:2.20.0 (charts: jaeger), node:24-slim (Dockerfile base (NODE_IMAGE))",
    );
    expect(pins.fix).toMatch(/npm run pin-images, then commit images\.lock\.json/);
    expect(byCheck(results, "tool: docker").detail).toBe("docker 28.2.2");
    expect(byCheck(results, "tool: AWS CLI").detail).toBe("AWS CLI 2.31.12");
    expect(byCheck(results, "tool: kubectl").detail).toBe("kubectl 1.32.4-dispatcher");
    expect(byCheck(results, "MSK zones").detail).toBe(
      "zone IDs in this account: us-east-1a = use1-az6, us-east-1b = use1-az1, us-east-1c = use1-az2; none is one MSK refuses (use1-az3)",
    );
    expect(byCheck(results, "cluster admin").detail).toMatch(
      /^EKS access entry for arn:aws:iam::123456789012:role\/(teams\/platform\/)?experiment-operator/,
    );
    expect(byCheck(results, "credentials").detail).toMatch(/account 123456789012/);
    expect(byCheck(results, "cdk bootstrap").detail).toMatch(/version 29/);
    // others: m5.4xlarge 16 + r5.2xlarge 8 (g5 is not a standard type; the i3 is ours): 1152 − 24 = 1128.
    // stage-48: 48 Cassandra i3.2xlarge × 8 vCPUs + 10 c5.4xlarge workers × 16 (44 detector pods of 2 CPUs, held history).
    expect(byCheck(results, "vCPU quota").detail).toMatch(
      /= 1152 vCPUs; 24 in use by other instances, so 1128 available; stage-48 needs 544 \(8 already running/,
    );
    expect(byCheck(results, "offered: i3.2xlarge").status).toBe("pass");
    expect(byCheck(results, "offered: c5.4xlarge").status).toBe("pass");
    expect(byCheck(results, "MSK broker quota (account)").detail).toMatch(
      /= 90; 6 brokers in other clusters, so 84 available; stage-48 needs 9/,
    );
    expect(byCheck(results, "MSK broker quota (cluster)").status).toBe("pass");
    // The throttled GetServiceQuota was retried by the SDK's retry strategy.
    expect(server.requests.filter((r) => r.key === "GetServiceQuota" && quotaCode("L-1216C47A")(r))).toHaveLength(2);
    // The SDK sent the offerings query the way the check means it.
    const first = server.requests.find((r) => r.key === "DescribeInstanceTypeOfferings")!;
    expect(first.form.get("LocationType")).toBe("availability-zone");
    expect(first.form.get("Filter.1.Name")).toBe("instance-type");
    expect(preflightReport(results)).toMatch(/all checks passed/);
  });

  it("fails with the quota code, the zones to use and the bootstrap command", async () => {
    server.add(
      identity,
      { match: "GetParameter", ...jsonReply(recorded("ssm/GetParameter.parameter-not-found.json"), 400) },
      {
        match: "GetServiceQuota",
        when: quotaCode("L-1216C47A"),
        ...jsonReply(recorded("service-quotas/GetServiceQuota.L-1216C47A.low.json")),
      },
      instances,
      { match: "DescribeInstanceTypeOfferings", ...xmlReply(recorded("ec2/DescribeInstanceTypeOfferings.i3-not-in-us-east-1c.xml")) },
      {
        match: "GetServiceQuota",
        when: quotaCode("L-EDD31C36"),
        ...jsonReply(recorded("service-quotas/GetServiceQuota.L-EDD31C36.low.json")),
      },
      mskCluster,
      clusters,
      { match: "DescribeAvailabilityZones", ...xmlReply(recorded("ec2/DescribeAvailabilityZones.us-east-1c-is-use1-az3.xml")) },
      getRole,
    );
    const results = await runPreflight(ctx, parseStages("stage-48"), options({ runTool: recordedTools(true) }));
    // In this account us-east-1c is use1-az3, where MSK refuses client subnets: the fix names zones that are not.
    const zones = byCheck(results, "MSK zones");
    expect(zones.status).toBe("fail");
    expect(zones.detail).toMatch(/^MSK refuses client subnets in us-east-1c \(use1-az3\)/);
    expect(zones.fix).toMatch(/--availability-zones us-east-1a,us-east-1b,us-east-1d /);
    const cli = byCheck(results, "tool: AWS CLI");
    expect(cli).toMatchObject({ status: "fail", detail: "aws-cli 1.45.11 is the AWS CLI v1; the kit requires v2" });
    const vcpu = byCheck(results, "vCPU quota");
    expect(vcpu.status).toBe("fail");
    expect(vcpu.detail).toMatch(/= 256 vCPUs; 24 in use by other instances, so 232 available; stage-48 needs 544/);
    expect(vcpu.fix).toMatch(/L-1216C47A\) to at least 568/);
    expect(vcpu.fix).toMatch(
      /aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A --desired-value 568 --region us-east-1/,
    );
    const i3 = byCheck(results, "offered: i3.2xlarge");
    expect(i3.status).toBe("fail");
    expect(i3.detail).toBe("i3.2xlarge is not offered in us-east-1c");
    expect(i3.fix).toMatch(/--availability-zones us-east-1a,us-east-1b,us-east-1d /);
    expect(byCheck(results, "offered: c5.4xlarge").status).toBe("pass");
    const boot = byCheck(results, "cdk bootstrap");
    expect(boot.status).toBe("fail");
    expect(boot.fix).toMatch(/npx cdk bootstrap aws:\/\/123456789012\/us-east-1/);
    const msk = byCheck(results, "MSK broker quota (account)");
    expect(msk.status).toBe("fail");
    expect(msk.fix).toMatch(/--quota-code L-EDD31C36 --desired-value 15/);
    const text = preflightReport(results);
    expect(text).toMatch(/FAIL {2}vCPU quota/);
    expect(text).toMatch(/6 check\(s\) failed/);
  });

  it("names a missing tool and what to install; root cannot be the cluster admin", async () => {
    server.add(
      { match: "GetCallerIdentity", ...xmlReply(recorded("sts/GetCallerIdentity.root.xml")) },
      bootstrap,
      { ...vcpuQuota, repeat: true },
      ...healthyAccount,
    );
    const noKubectl: ToolRunner = (command, args) =>
      command === "kubectl" ? recordedTools()("nope", args) : recordedTools()(command, args);
    const results = await runPreflight(ctx, parseStages("stage-3"), options({ runTool: noKubectl }));
    expect(byCheck(results, "tool: kubectl")).toMatchObject({
      status: "fail",
      detail: "kubectl: not found on PATH",
      fix: expect.stringMatching(/^install kubectl/) as unknown,
    });
    const admin = byCheck(results, "cluster admin");
    expect(admin.status).toBe("fail");
    expect(admin.detail).toMatch(/root user cannot be given an EKS access entry/);
  });

  it("stops at expired credentials and skips the rest", async () => {
    server.add({ match: "GetCallerIdentity", ...xmlReply(recorded("sts/GetCallerIdentity.expired-token.xml"), 403) });
    const results = await runPreflight(ctx, parseStages("stage-3"), options());
    const at = results.findIndex((r) => r.check === "credentials");
    expect(results.slice(0, at).map((r) => r.check)).toEqual(["tool: docker", "tool: AWS CLI", "tool: kubectl", "image pins"]);
    expect(results[at]).toMatchObject({ check: "credentials", status: "fail" });
    expect(results[at]!.detail).toMatch(/ExpiredToken/);
    expect(results[at]!.fix).toMatch(/session has expired/);
    expect(results.slice(at + 1).map((r) => r.status)).toEqual(["skipped", "skipped", "skipped", "skipped", "skipped", "skipped"]);
  });

  it("refuses a bootstrap older than the templates accept", async () => {
    server.add(
      identity,
      { match: "GetParameter", ...jsonReply(recorded("ssm/GetParameter.cdk-bootstrap-version-old.json")) },
      { ...vcpuQuota, repeat: true },
      ...healthyAccount,
      getRole,
    );
    const boot = byCheck(await runPreflight(ctx, parseStages("stage-3"), options()), "cdk bootstrap");
    expect(boot).toMatchObject({ status: "fail" });
    expect(boot.detail).toMatch(/version 4 .* need >= 6/);
    expect(server.requests.find((r) => r.key === "GetParameter")!.body).toContain("/cdk-bootstrap/hnb659fds/version");
  });
});
