/**
 * Quotas against the plan's largest stage:
 * - EC2 "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" (L-1216C47A, in vCPUs) must hold
 *   the stage's Cassandra + EKS worker vCPUs on top of what other workloads in the account already run;
 * - Amazon MSK "Number of brokers per account" (L-EDD31C36) must hold the stage's brokers on top of other
 *   clusters' brokers, and "Number of brokers per cluster" (L-FAB9E493) the stage's brokers.
 * Instances and clusters tagged with this experiment's id are not counted as others' use: a stage grows in place.
 */
import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { KafkaClient, ListClustersV2Command } from "@aws-sdk/client-kafka";
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { isStandardOnDemandType } from "../cost/stage-resources.ts";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";
import type { CheckResult } from "./check-result.ts";
import { experimentTagKey } from "./experiment-tag.ts";

export const quotaCodes = {
  ec2OnDemandStandardVcpus: { serviceCode: "ec2", quotaCode: "L-1216C47A" },
  mskBrokersPerAccount: { serviceCode: "kafka", quotaCode: "L-EDD31C36" },
  mskBrokersPerCluster: { serviceCode: "kafka", quotaCode: "L-FAB9E493" },
} as const;

export interface QuotaValue {
  readonly quotaCode: string;
  readonly quotaName: string;
  readonly value: number;
  /** "applied": the account's value; "default": AWS's default (no value applied to the account). */
  readonly source: "applied" | "default";
}

/** The account's value of a quota, or AWS's default when the account has none applied. */
export async function getQuota(client: ServiceQuotasClient, serviceCode: string, quotaCode: string): Promise<QuotaValue> {
  try {
    const out = await client.send(new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }));
    return { quotaCode, quotaName: out.Quota?.QuotaName ?? quotaCode, value: out.Quota?.Value ?? 0, source: "applied" };
  } catch (error) {
    if (errorName(error) !== "NoSuchResourceException") throw error;
    const out = await client.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode }));
    return { quotaCode, quotaName: out.Quota?.QuotaName ?? quotaCode, value: out.Quota?.Value ?? 0, source: "default" };
  }
}

const increaseHint = (serviceCode: string, quotaCode: string, name: string, desired: number, region: string) =>
  `raise "${name}" (${quotaCode}) to at least ${desired}: Service Quotas console → AWS services → ` +
  `${serviceCode === "ec2" ? "Amazon Elastic Compute Cloud (Amazon EC2)" : "Amazon Managed Streaming for Apache Kafka (MSK)"} → ${name} → Request increase, or ` +
  `aws service-quotas request-service-quota-increase --service-code ${serviceCode} --quota-code ${quotaCode} --desired-value ${desired} --region ${region}`;

const hasTag = (tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined, key: string, value: string) =>
  (tags ?? []).some((t) => t.Key === key && t.Value === value);

const instanceVcpus = (i: Instance) => (i.CpuOptions?.CoreCount ?? 0) * (i.CpuOptions?.ThreadsPerCore ?? 1);

/** vCPUs of running/pending standard on-demand instances, split into this experiment's and others'. */
export async function standardVcpuUsage(ec2: EC2Client, experimentId: string): Promise<{ ours: number; others: number }> {
  let ours = 0;
  let others = 0;
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }],
        NextToken,
        MaxResults: 1000,
      }),
    );
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (i.InstanceLifecycle === "spot" || !isStandardOnDemandType(i.InstanceType ?? "")) continue;
      if (hasTag(i.Tags, experimentTagKey, experimentId)) ours += instanceVcpus(i);
      else others += instanceVcpus(i);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return { ours, others };
}

export async function checkVcpuQuota(ctx: AwsContext, neededVcpus: number, experimentId: string, stage: string): Promise<CheckResult> {
  const quotas = new ServiceQuotasClient(clientConfig(ctx));
  const ec2 = new EC2Client(clientConfig(ctx));
  const { serviceCode, quotaCode } = quotaCodes.ec2OnDemandStandardVcpus;
  try {
    const [quota, usage] = await Promise.all([getQuota(quotas, serviceCode, quotaCode), standardVcpuUsage(ec2, experimentId)]);
    const available = quota.value - usage.others;
    const detail =
      `${quota.quotaName} (${quotaCode}) = ${quota.value} vCPUs${quota.source === "default" ? " (AWS default)" : ""}; ` +
      `${usage.others} in use by other instances, so ${available} available; ${stage} needs ${neededVcpus}` +
      (usage.ours > 0 ? ` (${usage.ours} already running for this experiment)` : "");
    if (available >= neededVcpus) return { check: "vCPU quota", status: "pass", detail };
    return {
      check: "vCPU quota",
      status: "fail",
      detail,
      fix: increaseHint(serviceCode, quotaCode, quota.quotaName, neededVcpus + usage.others, ctx.region),
    };
  } catch (error) {
    return {
      check: "vCPU quota",
      status: "fail",
      detail: `could not read ${quotaCode} or the running instances: ${errorName(error)}: ${errorMessage(error)}`,
      fix: "allow servicequotas:GetServiceQuota, servicequotas:GetAWSDefaultServiceQuota and ec2:DescribeInstances for this identity",
    };
  } finally {
    quotas.destroy();
    ec2.destroy();
  }
}

/** Brokers of provisioned MSK clusters, split into this experiment's and others'. */
export async function mskBrokerUsage(kafka: KafkaClient, experimentId: string): Promise<{ ours: number; others: number }> {
  let ours = 0;
  let others = 0;
  let NextToken: string | undefined;
  do {
    const out = await kafka.send(new ListClustersV2Command({ NextToken }));
    for (const c of out.ClusterInfoList ?? []) {
      const brokers = c.Provisioned?.NumberOfBrokerNodes ?? 0;
      if (c.Tags?.[experimentTagKey] === experimentId) ours += brokers;
      else others += brokers;
    }
    NextToken = out.NextToken;
  } while (NextToken);
  return { ours, others };
}

export async function checkMskBrokerQuota(
  ctx: AwsContext,
  neededBrokers: number,
  experimentId: string,
  stage: string,
): Promise<CheckResult[]> {
  const quotas = new ServiceQuotasClient(clientConfig(ctx));
  const kafka = new KafkaClient(clientConfig(ctx));
  const perAccount = quotaCodes.mskBrokersPerAccount;
  const perCluster = quotaCodes.mskBrokersPerCluster;
  try {
    const [account, cluster, usage] = await Promise.all([
      getQuota(quotas, perAccount.serviceCode, perAccount.quotaCode),
      getQuota(quotas, perCluster.serviceCode, perCluster.quotaCode),
      mskBrokerUsage(kafka, experimentId),
    ]);
    const available = account.value - usage.others;
    const accountDetail = `${account.quotaName} (${perAccount.quotaCode}) = ${account.value}; ${usage.others} brokers in other clusters, so ${available} available; ${stage} needs ${neededBrokers}`;
    const clusterDetail = `${cluster.quotaName} (${perCluster.quotaCode}) = ${cluster.value}; ${stage} needs ${neededBrokers} in one cluster`;
    return [
      available >= neededBrokers
        ? { check: "MSK broker quota (account)", status: "pass", detail: accountDetail }
        : {
            check: "MSK broker quota (account)",
            status: "fail",
            detail: accountDetail,
            fix: increaseHint(perAccount.serviceCode, perAccount.quotaCode, account.quotaName, neededBrokers + usage.others, ctx.region),
          },
      cluster.value >= neededBrokers
        ? { check: "MSK broker quota (cluster)", status: "pass", detail: clusterDetail }
        : {
            check: "MSK broker quota (cluster)",
            status: "fail",
            detail: clusterDetail,
            fix: increaseHint(perCluster.serviceCode, perCluster.quotaCode, cluster.quotaName, neededBrokers, ctx.region),
          },
    ];
  } catch (error) {
    return [
      {
        check: "MSK broker quota",
        status: "fail",
        detail: `could not read the MSK quotas or clusters: ${errorName(error)}: ${errorMessage(error)}`,
        fix: "allow servicequotas:GetServiceQuota, servicequotas:GetAWSDefaultServiceQuota and kafka:ListClustersV2 for this identity",
      },
    ];
  } finally {
    quotas.destroy();
    kafka.destroy();
  }
}
