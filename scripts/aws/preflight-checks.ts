/**
 * Everything that must hold before a stage is deployed, checked against the experiment's largest stage:
 * the tools (docker, AWS CLI v2, kubectl), the images pinned only by tag (no AWS call), credentials and region,
 * who becomes the cluster admin, CDK bootstrap, the on-demand vCPU quota, the instance types offered in each
 * chosen zone, the chosen zones' IDs against MSK's unsupported ones, and the MSK broker quotas. The experiment runner calls this before its first deploy.
 */
import type { ImageLock } from "../../cdk/image-lock.ts";
import type { Stage } from "../cost/stages.ts";
import { stageResources } from "../cost/stage-resources.ts";
import type { AwsContext } from "./aws-context.ts";
import { checkCdkBootstrap, defaultBootstrapQualifier } from "./bootstrap-check.ts";
import type { CheckResult } from "./check-result.ts";
import { checkClusterAdmin } from "./cluster-admin.ts";
import { checkCredentials } from "./credentials-check.ts";
import { checkOfferings } from "./offerings-check.ts";
import { checkMskBrokerQuota, checkVcpuQuota } from "./quota-check.ts";
import { checkImagePins } from "./image-pins-check.ts";
import { checkTools, runTool, type ToolRunner } from "./tools-check.ts";
import { checkMskZones } from "./zone-check.ts";

export interface PreflightOptions {
  readonly bootstrapQualifier?: string | undefined;
  /** Runs docker/aws/kubectl for their versions (tests give recorded outputs). */
  readonly runTool?: ToolRunner;
  /** The AWS CLI binary used for IAM GetRole (tests: the same CLI against the replay server). */
  readonly aws?: string;
  /** The image lock to check (default: images.lock.json). */
  readonly imageLock?: ImageLock;
}

/** What the largest stage needs and where: the figures every check compares against. */
export function preflightNeeds(stages: readonly Stage[]) {
  if (stages.length === 0) throw new Error("preflight needs at least one stage");
  const first = stages[0]!.plan;
  const other = stages.find((s) => s.plan.region !== first.region || s.plan.availabilityZones.join() !== first.availabilityZones.join());
  if (other !== undefined) throw new Error(`all stages must share one region and zones (${stages[0]!.name} vs ${other.name})`);
  const withResources = stages.map((s) => ({ stage: s, resources: stageResources(s.plan) }));
  const byVcpus = withResources.reduce((a, b) => (b.resources.ec2StandardVcpus > a.resources.ec2StandardVcpus ? b : a));
  const byBrokers = withResources.reduce((a, b) => (b.resources.mskBrokers > a.resources.mskBrokers ? b : a));
  return {
    region: first.region,
    zones: first.availabilityZones,
    experimentId: first.experimentId,
    vcpus: { needed: byVcpus.resources.ec2StandardVcpus, stage: byVcpus.stage.name },
    brokers: { needed: byBrokers.resources.mskBrokers, stage: byBrokers.stage.name },
    ec2InstanceTypes: [
      ...new Set(withResources.flatMap((w) => w.resources.tiers.filter((t) => t.service === "EC2").map((t) => t.instanceType))),
    ],
  };
}

export async function runPreflight(ctx: AwsContext, stages: readonly Stage[], options: PreflightOptions = {}): Promise<CheckResult[]> {
  const needs = preflightNeeds(stages);
  if (needs.region !== ctx.region) throw new Error(`the stages are planned for ${needs.region}, the AWS context is ${ctx.region}`);
  const toolResults = [...(await checkTools(options.runTool ?? runTool)), checkImagePins(options.imageLock)];
  const { result: credentials, identity } = await checkCredentials(ctx);
  const rest = ["cluster admin", "cdk bootstrap", "vCPU quota", "offered instance types", "MSK zones", "MSK broker quota"];
  if (credentials.status === "fail" || identity === undefined) {
    return [
      ...toolResults,
      credentials,
      ...rest.map((check): CheckResult => ({ check, status: "skipped", detail: "needs working credentials" })),
    ];
  }
  const [admin, bootstrap, vcpus, offerings, zones, brokers] = await Promise.all([
    checkClusterAdmin(ctx, identity, options.aws === undefined ? {} : { aws: options.aws }),
    checkCdkBootstrap(ctx, identity.account, options.bootstrapQualifier ?? defaultBootstrapQualifier),
    checkVcpuQuota(ctx, needs.vcpus.needed, needs.experimentId, needs.vcpus.stage),
    checkOfferings(ctx, needs.ec2InstanceTypes, needs.zones),
    checkMskZones(ctx, needs.zones),
    checkMskBrokerQuota(ctx, needs.brokers.needed, needs.experimentId, needs.brokers.stage),
  ]);
  return [...toolResults, credentials, admin, bootstrap, vcpus, ...offerings, zones, ...brokers];
}
