/**
 * The sweep against recorded AWS responses replayed on loopback to the real SDK clients: discovery across
 * the Tagging API, MSK and the experiment's VPC; deletion in dependency order over rounds with backoff;
 * DependencyViolation retried; a resource that will not delete left listed; throttling retried.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { sweepExperiment } from "../../../scripts/aws/deletion-order.ts";
import { sweepReport } from "../../../scripts/aws/sweep-report.ts";
import { resourceFromArn } from "../../../scripts/aws/tagged-resources.ts";
import { jsonReply, restJsonReply, xmlReply, type Exchange, testCredentials, useReplayServer } from "../../recorded/replay-server.ts";
import { recorded } from "../../recorded/recorded.ts";

const { server, ctx } = useReplayServer();

const json = (match: string, file: string, extra: Partial<Exchange> = {}): Exchange => ({ match, ...jsonReply(recorded(file)), ...extra });
const xml = (match: string, file: string, extra: Partial<Exchange> = {}): Exchange => ({ match, ...xmlReply(recorded(file)), ...extra });
const rest = (match: string | RegExp, file: string, extra: Partial<Exchange> = {}): Exchange => ({
  match,
  ...restJsonReply(recorded(file)),
  ...extra,
});
const ec2Error = (match: string, file: string, extra: Partial<Exchange> = {}): Exchange => ({
  match,
  ...xmlReply(recorded(file), 400),
  ...extra,
});

const clusters = (file: string) => rest("GET /api/v2/clusters", file);
const configurations = (file: string) => rest("GET /v1/configurations", file);
const byFilter = { when: (r: { form: URLSearchParams }) => r.form.get("Filter.1.Name") === "vpc-id" };
const byGroupId = { when: (r: { form: URLSearchParams }) => r.form.has("GroupId.1") };
const vpcDependents = (lbs: string, enis: string): Exchange[] => [
  xml("DescribeLoadBalancers", lbs),
  xml("DescribeSecurityGroups", "ec2/DescribeSecurityGroups.in-vpc.xml", byFilter),
  xml("DescribeNetworkInterfaces", enis),
];

/** A fake clock: sleeping advances it, so backoff is asserted without waiting. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return { sleeps, now: () => t, sleep: (ms: number) => ((t += ms), sleeps.push(ms), Promise.resolve()) };
}

describe("ARNs", () => {
  it("maps each service's ARN to a kind and the id its delete call takes", () => {
    expect(resourceFromArn("arn:aws:ec2:us-east-1:123456789012:instance/i-0123")).toMatchObject({ kind: "ec2-instance", id: "i-0123" });
    expect(resourceFromArn("arn:aws:logs:us-east-1:123456789012:log-group:/aws/eks/anomaly/cluster:*")).toMatchObject({
      kind: "logs-log-group",
      id: "/aws/eks/anomaly/cluster",
    });
    expect(resourceFromArn("arn:aws:eks:us-east-1:123456789012:nodegroup/anomaly/workers/9ac9a4d8")).toMatchObject({
      kind: "eks-nodegroup",
      id: "workers",
      detail: { clusterName: "anomaly" },
    });
    expect(resourceFromArn("arn:aws:s3:::anomaly-results")).toMatchObject({ kind: "s3-bucket", id: "anomaly-results" });
    expect(resourceFromArn("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/k8s-x/50dc")).toMatchObject({
      kind: "elbv2-load-balancer",
    });
    expect(resourceFromArn("arn:aws:kms:us-east-1:1:key/1234abcd")).toMatchObject({ kind: "kms-key", id: "1234abcd" });
    expect(resourceFromArn("arn:aws:lambda:us-east-1:1:function:f")).toMatchObject({ kind: "other", type: "lambda function" });
  });
});

describe("sweep", () => {
  it("lists what is left, across pages, MSK and the VPC, without deleting (and drops a terminated instance)", async () => {
    server.add(
      json("GetResources", "tagging/GetResources.page-1.json", { when: (r) => !r.body.includes("PaginationToken") }),
      json("GetResources", "tagging/GetResources.page-2.json", { when: (r) => r.body.includes("PaginationToken") }),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.others-only.json"),
      ...vpcDependents("elbv2/DescribeLoadBalancers.none-in-vpc.xml", "ec2/DescribeNetworkInterfaces.none.xml"),
      xml("DescribeStacks", "cloudformation/DescribeStacks.delete-failed.xml"),
      xml("DescribeInstances", "ec2/DescribeInstances.i-0123456789abcdef0.terminated.xml"),
    );
    const report = await sweepExperiment(ctx, "anomaly", { delete: false });
    const left = report.remaining.map((e) => `${e.resource.kind} ${e.outcome.status}`);
    expect(left).toEqual([
      "cloudformation-stack present",
      "ec2-volume present",
      "ec2-security-group present",
      "ec2-vpc present",
      "other manual",
    ]);
    expect(report.remaining[0]!.outcome.detail).toMatch(/DELETE_FAILED: The following resource\(s\) failed to delete/);
    expect(report.remaining.find((e) => e.resource.kind === "ec2-security-group")!.resource.via).toBe("in vpc-0e9801d129c0ffee1");
    expect(server.keys().some((k) => /^(Delete|Terminate|Schedule)/.test(k))).toBe(false);
    expect(sweepReport(report, false)).toMatch(/5 resource\(s\) of experiment anomaly remain; run with --delete/);
  });

  it("deletes in dependency order over rounds, retrying what is blocked, until nothing is left", async () => {
    server.add(
      // Round 1: everything is there; the Tagging API throttles once (the SDK retries).
      json("GetResources", "tagging/GetResources.throttling.json", { status: 400 }),
      json("GetResources", "tagging/GetResources.round-1.json"),
      clusters("kafka/ListClustersV2.json"),
      configurations("kafka/ListConfigurations.json"),
      ...vpcDependents("elbv2/DescribeLoadBalancers.k8s-in-vpc.xml", "ec2/DescribeNetworkInterfaces.in-vpc.xml"),
      xml("DescribeInstances", "ec2/DescribeInstances.i-0123456789abcdef0.running.xml"),
      json("DescribeKey", "kms/DescribeKey.enabled.json"),
      rest(/^DELETE \/v1\/clusters\//, "kafka/DeleteCluster.json"),
      xml("DeleteLoadBalancer", "elbv2/DeleteLoadBalancer.xml"),
      xml("TerminateInstances", "ec2/TerminateInstances.xml"),
      ec2Error("DeleteVolume", "ec2/DeleteVolume.volume-in-use.xml"),
      xml("DeleteNetworkInterface", "ec2/DeleteNetworkInterface.xml"),
      ec2Error("DeleteSecurityGroup", "ec2/DeleteSecurityGroup.dependency-violation.xml"),
      xml("DescribeSecurityGroups", "ec2/DescribeSecurityGroups.sg-0b2c3d4e5f6a70819.xml", byGroupId),
      xml("RevokeSecurityGroupIngress", "ec2/RevokeSecurityGroupIngress.xml"),
      ec2Error("DeleteVpc", "ec2/DeleteVpc.dependency-violation.xml"),
      json("DeleteLogGroup", "logs/DeleteLogGroup.json"),
      json("ScheduleKeyDeletion", "kms/ScheduleKeyDeletion.json"),
      { match: /^GET \/anomaly-results-123456789012\/?\?versions/, ...xmlReply(recorded("s3/ListObjectVersions.xml")) },
      { match: /^POST \/anomaly-results-123456789012\/?\?delete/, ...xmlReply(recorded("s3/DeleteObjects.xml")) },
      { match: /^DELETE \/anomaly-results-123456789012\/?$/, status: 204, body: "" },
      // Round 2: the instance is terminated, the MSK cluster deleting, the key pending deletion.
      json("GetResources", "tagging/GetResources.round-2.json"),
      clusters("kafka/ListClustersV2.deleting.json"),
      configurations("kafka/ListConfigurations.json"),
      ...vpcDependents("elbv2/DescribeLoadBalancers.none-in-vpc.xml", "ec2/DescribeNetworkInterfaces.none.xml"),
      xml("DescribeInstances", "ec2/DescribeInstances.i-0123456789abcdef0.terminated.xml"),
      json("DescribeKey", "kms/DescribeKey.pending-deletion.json", { repeat: true }),
      xml("DeleteVolume", "ec2/DeleteVolume.xml"),
      xml("DeleteSecurityGroup", "ec2/DeleteSecurityGroup.xml"),
      xml("DeleteVpc", "ec2/DeleteVpc.xml"),
      // Round 3: the MSK cluster is gone, so its configuration can go.
      json("GetResources", "tagging/GetResources.kms-only.json"),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.json"),
      rest(/^DELETE \/v1\/configurations\//, "kafka/DeleteConfiguration.json"),
      // Round 4: the configuration is deleting; round 5: nothing but the scheduled key.
      json("GetResources", "tagging/GetResources.kms-only.json"),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.deleting.json"),
      json("GetResources", "tagging/GetResources.kms-only.json"),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.others-only.json"),
    );
    const time = fakeTime();
    const lines: string[] = [];
    const report = await sweepExperiment(ctx, "anomaly", {
      delete: true,
      initialDelayMs: 1000,
      maxDelayMs: 4000,
      ...time,
      log: (l) => lines.push(l),
    });
    expect(report.remaining).toEqual([]);
    expect(report.rounds).toBe(5);
    expect(time.sleeps).toEqual([1000, 2000, 4000, 4000]);
    const deletes = server
      .keys()
      .filter((k) => /^(Delete|Terminate|Schedule|Revoke|DELETE|POST)/.test(k))
      .map((k) =>
        k.replace(/ \/.*/, (m) => (m.includes("clusters") ? " cluster" : m.includes("configurations") ? " configuration" : " bucket")),
      );
    expect(deletes).toEqual([
      "DELETE cluster", // MSK first: it takes longest
      "DeleteLoadBalancer", // the Kubernetes-made NLB found in the VPC (untagged)
      "TerminateInstances",
      "DeleteVolume", // VolumeInUse: blocked
      "DeleteNetworkInterface", // the CNI's leftover ENI; the NLB's ENI is AWS-managed and waits
      "DeleteSecurityGroup", // DependencyViolation …
      "RevokeSecurityGroupIngress", // … so its group references are dropped
      "DeleteVpc", // DependencyViolation
      "DeleteLogGroup",
      "ScheduleKeyDeletion",
      "POST bucket",
      "DELETE bucket",
      "DeleteVolume", // round 2: the instance is gone
      "DeleteSecurityGroup",
      "DeleteVpc",
      "DELETE configuration", // round 3
    ]);
    // Only the group-referencing rule was revoked, not the CIDR one.
    const revoke = server.requests.find((r) => r.key === "RevokeSecurityGroupIngress")!;
    expect(revoke.form.get("IpPermissions.1.Groups.1.GroupId")).toBe("sg-0b2c3d4e5f6a70819");
    expect(revoke.form.has("IpPermissions.2.IpProtocol")).toBe(false);
    expect(revoke.form.has("IpPermissions.1.IpRanges.1.CidrIp")).toBe(false);
    expect(server.requests.find((r) => r.key === "ScheduleKeyDeletion")!.body).toContain('"PendingWindowInDays":7');
    expect(lines.join("\n")).toMatch(
      /blocked {3}ec2-security-group sg-0b2c3d4e5f6a70819 \(DependencyViolation: resource sg-0b2c3d4e5f6a70819 has a dependent object\)/,
    );
    expect(lines.join("\n")).toMatch(/blocked {3}ec2-network-interface eni-0f1e2d3c4b5a69788 \(owned by an AWS service/);
    expect(report.done.find((e) => e.resource.kind === "kms-key")!.outcome.status).toBe("scheduled");
    expect(report.done.find((e) => e.resource.kind === "s3-bucket")!.outcome.status).toBe("gone");
    expect(sweepReport(report, true)).toMatch(/nothing tagged anomaly-kit:experiment=anomaly is left/);
  });

  it("gives up on a resource that will not delete, lists it and why, after backing off", async () => {
    server.add(
      json("GetResources", "tagging/GetResources.sg-only.json", { repeat: true }),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.others-only.json"),
      ec2Error("DeleteSecurityGroup", "ec2/DeleteSecurityGroup.dependency-violation.xml", { repeat: true }),
      xml("DescribeSecurityGroups", "ec2/DescribeSecurityGroups.sg-0b2c3d4e5f6a70819.xml", { ...byGroupId, repeat: true }),
      xml("RevokeSecurityGroupIngress", "ec2/RevokeSecurityGroupIngress.xml", { repeat: true }),
    );
    server.add(
      { ...clusters("kafka/ListClustersV2.others-only.json"), repeat: true },
      { ...configurations("kafka/ListConfigurations.others-only.json"), repeat: true },
    );
    const time = fakeTime();
    const report = await sweepExperiment(ctx, "anomaly", {
      delete: true,
      timeoutMs: 10_000,
      initialDelayMs: 1000,
      maxDelayMs: 4000,
      ...time,
    });
    expect(time.sleeps).toEqual([1000, 2000, 4000]);
    expect(report.rounds).toBe(4);
    expect(report.remaining).toHaveLength(1);
    expect(report.remaining[0]).toMatchObject({
      resource: { kind: "ec2-security-group", id: "sg-0b2c3d4e5f6a70819" },
      outcome: { status: "blocked" },
    });
    expect(report.remaining[0]!.outcome.detail).toMatch(/^DependencyViolation/);
    expect(server.keys().filter((k) => k === "DeleteSecurityGroup")).toHaveLength(4);
    expect(sweepReport(report, true)).toMatch(/1 resource\(s\) of experiment anomaly remain after 4 round\(s\)/);
  });
});

describe("npm run sweep", () => {
  const run = async (args: string[]) => {
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
      AWS_REGION: "us-east-1",
    };
    try {
      const { stdout } = await promisify(execFile)("tsx", ["scripts/sweep.ts", ...args], { env });
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout + e.stderr };
    }
  };
  it("exits 0 when nothing is left and 1 while something remains", async () => {
    server.add(
      json("GetResources", "tagging/GetResources.empty.json"),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.others-only.json"),
    );
    const empty = await run(["--experiment", "anomaly"]);
    expect(empty.stdout).toMatch(/nothing tagged anomaly-kit:experiment=anomaly is left/);
    expect(empty.code).toBe(0);
    server.add(
      json("GetResources", "tagging/GetResources.sg-only.json"),
      clusters("kafka/ListClustersV2.others-only.json"),
      configurations("kafka/ListConfigurations.others-only.json"),
    );
    const left = await run(["--experiment", "anomaly"]);
    expect(left.stdout).toMatch(/ec2-security-group {2}sg-0b2c3d4e5f6a70819/);
    expect(left.code).toBe(1);
  });
  it("rejects a malformed experiment id", async () => {
    expect((await run(["--experiment", "Bad_Id"])).code).toBe(2);
  });
});
