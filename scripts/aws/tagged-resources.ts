/**
 * Everything of an experiment that is still there: resources tagged `anomaly-kit:experiment=<id>` (experimentTagKey) (Resource Groups
 * Tagging API, every service at once), MSK configurations (which cannot be tagged: found by the tagged
 * clusters' configuration ARNs and by the `<id>-` name prefix), and — inside the experiment's tagged VPCs —
 * the untagged things Kubernetes and AWS services leave behind (load balancers made by the AWS Load
 * Balancer Controller, their security groups, ENIs of load balancers, Lambdas and endpoints).
 */
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type DescribeNetworkInterfacesCommandOutput,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand, type ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  ListClustersV2Command,
  ListConfigurationsCommand,
  type KafkaClient,
  type ListConfigurationsCommandOutput,
} from "@aws-sdk/client-kafka";
import { GetResourcesCommand, type ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { experimentTagKey } from "./experiment-tag.ts";

export const resourceKinds = [
  "cloudformation-stack",
  "eks-nodegroup",
  "eks-cluster",
  "msk-cluster",
  "elbv2-load-balancer",
  "elbv2-target-group",
  "ec2-instance",
  "ec2-nat-gateway",
  "ec2-vpc-endpoint",
  "ec2-volume",
  "ec2-network-interface",
  "ec2-elastic-ip",
  "ec2-security-group",
  "ec2-internet-gateway",
  "ec2-subnet",
  "ec2-route-table",
  "ec2-vpc",
  "msk-configuration",
  "logs-log-group",
  "kms-key",
  "s3-bucket",
  "other",
] as const;
export type ResourceKind = (typeof resourceKinds)[number];

export interface FoundResource {
  readonly kind: ResourceKind;
  /** The id the service's delete call takes (instance id, ARN, name …). */
  readonly id: string;
  readonly arn?: string | undefined;
  /** For `other`: the ARN's service and resource type, e.g. "lambda function". */
  readonly type?: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
  /** How it was found: "tag", "MSK cluster <name>", "name prefix", "in vpc-…". */
  readonly via: string;
  /** State as the discovery call reported it, when it reports one (MSK cluster state, ENI status …). */
  readonly state?: string | undefined;
  /** Extra facts a deleter needs (the EKS cluster of a node group, an ENI's owner …). */
  readonly detail?: Readonly<Record<string, string>> | undefined;
}

const ec2Kinds: Readonly<Record<string, ResourceKind>> = {
  instance: "ec2-instance",
  volume: "ec2-volume",
  "network-interface": "ec2-network-interface",
  "security-group": "ec2-security-group",
  natgateway: "ec2-nat-gateway",
  "elastic-ip": "ec2-elastic-ip",
  "internet-gateway": "ec2-internet-gateway",
  subnet: "ec2-subnet",
  "route-table": "ec2-route-table",
  vpc: "ec2-vpc",
  "vpc-endpoint": "ec2-vpc-endpoint",
};

/** Kind and delete id from an ARN (arn:partition:service:region:account:resource). */
export function resourceFromArn(arn: string, tags: Readonly<Record<string, string>> = {}, via = "tag"): FoundResource {
  const [, , service = "", , , ...rest] = arn.split(":");
  const resource = rest.join(":");
  const slash = resource.indexOf("/");
  const type = slash < 0 ? resource.split(":")[0]! : resource.slice(0, slash);
  const after = slash < 0 ? "" : resource.slice(slash + 1);
  const base = { arn, tags, via };
  switch (service) {
    case "ec2": {
      const kind = ec2Kinds[type];
      if (kind !== undefined) return { ...base, kind, id: after };
      break;
    }
    case "elasticloadbalancing":
      if (type === "loadbalancer" && /^(app|net|gwy)\//.test(after)) return { ...base, kind: "elbv2-load-balancer", id: arn };
      if (type === "targetgroup") return { ...base, kind: "elbv2-target-group", id: arn };
      break;
    case "logs":
      if (resource.startsWith("log-group:"))
        return { ...base, kind: "logs-log-group", id: resource.slice("log-group:".length).replace(/:\*$/, "") };
      break;
    case "kafka":
      if (type === "cluster") return { ...base, kind: "msk-cluster", id: arn };
      if (type === "configuration") return { ...base, kind: "msk-configuration", id: arn };
      break;
    case "kms":
      if (type === "key") return { ...base, kind: "kms-key", id: after };
      break;
    case "s3":
      if (!resource.includes("/")) return { ...base, kind: "s3-bucket", id: resource };
      break;
    case "cloudformation":
      if (type === "stack") return { ...base, kind: "cloudformation-stack", id: arn, detail: { stackName: after.split("/")[0]! } };
      break;
    case "eks":
      if (type === "cluster") return { ...base, kind: "eks-cluster", id: after };
      if (type === "nodegroup") {
        const [clusterName = "", nodegroupName = ""] = after.split("/");
        return { ...base, kind: "eks-nodegroup", id: nodegroupName, detail: { clusterName } };
      }
      break;
  }
  return { ...base, kind: "other", id: arn, type: `${service} ${type}` };
}

const tagMap = (tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));

/** Every resource the Tagging API lists with the experiment tag = id (all pages). */
export async function findTaggedResources(tagging: ResourceGroupsTaggingAPIClient, experimentId: string): Promise<FoundResource[]> {
  const found: FoundResource[] = [];
  let PaginationToken: string | undefined;
  do {
    const out = await tagging.send(
      new GetResourcesCommand({ TagFilters: [{ Key: experimentTagKey, Values: [experimentId] }], ResourcesPerPage: 100, PaginationToken }),
    );
    for (const m of out.ResourceTagMappingList ?? []) {
      if (m.ResourceARN !== undefined) found.push(resourceFromArn(m.ResourceARN, tagMap(m.Tags)));
    }
    PaginationToken = out.PaginationToken || undefined;
  } while (PaginationToken);
  return found;
}

/** The experiment's MSK clusters (with their state) and configurations: referenced by them or named `<id>-…`. */
export async function findMskResources(kafka: KafkaClient, experimentId: string): Promise<FoundResource[]> {
  const found: FoundResource[] = [];
  const configurations = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const out = await kafka.send(new ListClustersV2Command({ NextToken }));
    for (const c of out.ClusterInfoList ?? []) {
      if (c.ClusterArn === undefined || c.Tags?.[experimentTagKey] !== experimentId) continue;
      found.push({ ...resourceFromArn(c.ClusterArn, c.Tags), state: c.State });
      const configuration = c.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn;
      if (configuration !== undefined) configurations.set(configuration, `MSK cluster ${c.ClusterName ?? c.ClusterArn}`);
    }
    NextToken = out.NextToken;
  } while (NextToken);
  let configurationsToken: string | undefined;
  do {
    const out: ListConfigurationsCommandOutput = await kafka.send(new ListConfigurationsCommand({ NextToken: configurationsToken }));
    for (const c of out.Configurations ?? []) {
      if (c.Arn === undefined) continue;
      const via = configurations.get(c.Arn) ?? (c.Name?.startsWith(`${experimentId}-`) ? "name prefix" : undefined);
      if (via !== undefined) found.push({ ...resourceFromArn(c.Arn, {}, via), state: c.State });
    }
    configurationsToken = out.NextToken;
  } while (configurationsToken);
  return found;
}

/** Untagged load balancers, security groups and ENIs inside the experiment's VPCs. */
export async function findVpcDependents(
  ec2: EC2Client,
  elbv2: ElasticLoadBalancingV2Client,
  vpcIds: readonly string[],
): Promise<FoundResource[]> {
  if (vpcIds.length === 0) return [];
  const found: FoundResource[] = [];
  const vpcFilter = [{ Name: "vpc-id", Values: [...vpcIds] }];
  let Marker: string | undefined;
  do {
    const out = await elbv2.send(new DescribeLoadBalancersCommand({ Marker }));
    for (const lb of out.LoadBalancers ?? []) {
      if (lb.LoadBalancerArn !== undefined && lb.VpcId !== undefined && vpcIds.includes(lb.VpcId)) {
        found.push({ ...resourceFromArn(lb.LoadBalancerArn, {}, `in ${lb.VpcId}`), state: lb.State?.Code });
      }
    }
    Marker = out.NextMarker;
  } while (Marker);
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: vpcFilter, NextToken }));
    for (const g of out.SecurityGroups ?? []) {
      // The VPC's default group cannot be deleted; it goes with the VPC.
      if (g.GroupId === undefined || g.GroupName === "default") continue;
      found.push({
        kind: "ec2-security-group",
        id: g.GroupId,
        tags: tagMap(g.Tags),
        via: `in ${g.VpcId ?? "vpc"}`,
        detail: { name: g.GroupName ?? "" },
      });
    }
    NextToken = out.NextToken;
  } while (NextToken);
  let interfacesToken: string | undefined;
  do {
    const out: DescribeNetworkInterfacesCommandOutput = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: vpcFilter, NextToken: interfacesToken }),
    );
    for (const n of out.NetworkInterfaces ?? []) {
      if (n.NetworkInterfaceId === undefined) continue;
      found.push({
        kind: "ec2-network-interface",
        id: n.NetworkInterfaceId,
        tags: tagMap(n.TagSet),
        via: `in ${n.VpcId ?? "vpc"}`,
        state: n.Status,
        detail: {
          description: n.Description ?? "",
          interfaceType: n.InterfaceType ?? "",
          requesterManaged: String(n.RequesterManaged ?? false),
          ...(n.Attachment?.InstanceId === undefined ? {} : { attachedTo: n.Attachment.InstanceId }),
        },
      });
    }
    interfacesToken = out.NextToken;
  } while (interfacesToken);
  return found;
}

/** One entry per resource: a later source adds facts (state, detail) to an earlier one of the same id. */
export function mergeFound(...lists: readonly FoundResource[][]): FoundResource[] {
  const byKey = new Map<string, FoundResource>();
  for (const r of lists.flat()) {
    const key = `${r.kind} ${r.id}`;
    const earlier = byKey.get(key);
    byKey.set(
      key,
      earlier === undefined
        ? r
        : { ...earlier, state: r.state ?? earlier.state, detail: { ...earlier.detail, ...r.detail }, tags: { ...r.tags, ...earlier.tags } },
    );
  }
  return [...byKey.values()];
}
