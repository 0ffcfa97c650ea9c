/**
 * How to look at and delete each kind of resource the sweep finds. Every call answers with one outcome:
 * gone (deleted, or already not there), deleting (the service deletes it in the background), scheduled
 * (a KMS key waiting out its deletion window: nothing more to do), blocked (something still depends on it:
 * DependencyViolation, in use — retried in a later round), failed (any other error), manual (no deleter).
 */
import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { CloudWatchLogsClient, DeleteLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVolumeCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeSecurityGroupsCommand,
  DetachInternetGatewayCommand,
  EC2Client,
  ReleaseAddressCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
  type IpPermission,
} from "@aws-sdk/client-ec2";
import {
  DeleteClusterCommand as DeleteEksClusterCommand,
  DeleteNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
} from "@aws-sdk/client-eks";
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DeleteClusterCommand as DeleteMskClusterCommand, DeleteConfigurationCommand, KafkaClient } from "@aws-sdk/client-kafka";
import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { clientConfig, errorMessage, errorName, type AwsContext } from "./aws-context.ts";
import type { FoundResource, ResourceKind } from "./tagged-resources.ts";

/** "present": found, no delete tried yet (listing). */
export type OutcomeStatus = "present" | "gone" | "deleting" | "scheduled" | "blocked" | "failed" | "manual";
export interface Outcome {
  readonly status: OutcomeStatus;
  readonly detail?: string | undefined;
}

export interface SweepClients {
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly ec2: EC2Client;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly kafka: KafkaClient;
  readonly eks: EKSClient;
  readonly cloudformation: CloudFormationClient;
  readonly logs: CloudWatchLogsClient;
  readonly kms: KMSClient;
  readonly s3: S3Client;
  destroy(): void;
}

export function sweepClients(ctx: AwsContext): SweepClients {
  const c = clientConfig(ctx);
  const clients = {
    tagging: new ResourceGroupsTaggingAPIClient(c),
    ec2: new EC2Client(c),
    elbv2: new ElasticLoadBalancingV2Client(c),
    kafka: new KafkaClient(c),
    eks: new EKSClient(c),
    cloudformation: new CloudFormationClient(c),
    logs: new CloudWatchLogsClient(c),
    kms: new KMSClient(c),
    s3: new S3Client(c),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((client) => client.destroy()) };
}

const blockedNames = /DependencyViolation|InUse|ResourceInUse|BucketNotEmpty|IncorrectState|InvalidIPAddress\.InUse/;
const goneNames = /NotFound|NoSuchBucket|NoSuchEntity|NotFoundException/;

/** Maps a delete call's error to an outcome: missing → gone; dependency or in-use → blocked; else failed. */
export function outcomeOfError(error: unknown): Outcome {
  const name = errorName(error);
  const message = errorMessage(error);
  if (goneNames.test(name) || (name === "ValidationError" && /does not exist/.test(message))) return { status: "gone" };
  if (blockedNames.test(name)) return { status: "blocked", detail: `${name}: ${message}` };
  return { status: "failed", detail: `${name}: ${message}` };
}

const attempt = async (call: () => Promise<Outcome>): Promise<Outcome> => {
  try {
    return await call();
  } catch (error) {
    return outcomeOfError(error);
  }
};

/** The state of kinds whose deletion runs in the background or that linger in listings once deleted. */
export async function probe(clients: SweepClients, r: FoundResource): Promise<Outcome | undefined> {
  switch (r.kind) {
    case "ec2-instance":
      return attempt(async () => {
        const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [r.id] }));
        const state = out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
        if (state === undefined || state === "terminated") return { status: "gone" };
        return state === "shutting-down" ? { status: "deleting", detail: state } : { status: "present", detail: state };
      });
    case "ec2-nat-gateway":
      return attempt(async () => {
        const state = (await clients.ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [r.id] }))).NatGateways?.[0]?.State;
        if (state === undefined || state === "deleted") return { status: "gone" };
        return state === "deleting" ? { status: "deleting", detail: state } : { status: "present", detail: state };
      });
    case "cloudformation-stack":
      return attempt(async () => {
        const stack = (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: r.id }))).Stacks?.[0];
        const status = stack?.StackStatus;
        if (status === undefined || status === "DELETE_COMPLETE") return { status: "gone" };
        if (status === "DELETE_IN_PROGRESS") return { status: "deleting", detail: status };
        return { status: "present", detail: `${status}${stack?.StackStatusReason ? `: ${stack.StackStatusReason}` : ""}` };
      });
    case "eks-cluster":
      return attempt(async () => {
        const status = (await clients.eks.send(new DescribeClusterCommand({ name: r.id }))).cluster?.status;
        return status === "DELETING" ? { status: "deleting", detail: status } : { status: "present", detail: status };
      });
    case "eks-nodegroup":
      return attempt(async () => {
        const ng = await clients.eks.send(new DescribeNodegroupCommand({ clusterName: r.detail?.clusterName, nodegroupName: r.id }));
        const status = ng.nodegroup?.status;
        return status === "DELETING" ? { status: "deleting", detail: status } : { status: "present", detail: status };
      });
    case "msk-cluster":
    case "msk-configuration":
      return r.state === "DELETING" ? { status: "deleting", detail: r.state } : undefined;
    case "other":
      return {
        status: "manual",
        detail: `no deleter for ${r.type ?? "this type"}: it goes with its CloudFormation stack, or delete it by hand`,
      };
    case "kms-key":
      return attempt(async () => {
        const key = (await clients.kms.send(new DescribeKeyCommand({ KeyId: r.id }))).KeyMetadata;
        if (key?.KeyState === "PendingDeletion")
          return { status: "scheduled", detail: `deletion on ${key.DeletionDate?.toISOString() ?? "?"}` };
        if (key?.KeyManager === "AWS") return { status: "manual", detail: "AWS-managed key" };
        return { status: "present", detail: key?.KeyState };
      });
    default:
      return undefined;
  }
}

/** Rules of a group that name other groups: they make those groups undeletable (DependencyViolation). */
const referencing = (perms: IpPermission[] | undefined) =>
  (perms ?? [])
    .filter((p) => (p.UserIdGroupPairs ?? []).length > 0)
    .map((p) => ({ ...p, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [] }));

async function revokeGroupReferences(ec2: EC2Client, groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds] }));
  for (const g of out.SecurityGroups ?? []) {
    const ingress = referencing(g.IpPermissions);
    const egress = referencing(g.IpPermissionsEgress);
    if (ingress.length > 0) await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId, IpPermissions: ingress }));
    if (egress.length > 0) await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: g.GroupId, IpPermissions: egress }));
  }
}

async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<Outcome> {
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  do {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
    const objects = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length > 0) {
      const deleted = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
      if ((deleted.Errors ?? []).length > 0) {
        const e = deleted.Errors![0]!;
        return { status: "blocked", detail: `${deleted.Errors!.length} object(s) not deleted, e.g. ${e.Key}: ${e.Code}: ${e.Message}` };
      }
    }
    KeyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
    VersionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
  } while (KeyMarker !== undefined);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  return { status: "gone" };
}

export interface DeleteContext {
  /** Kinds with something left this round: an EKS node group still there keeps its instances alive. */
  readonly remainingKinds: ReadonlySet<ResourceKind>;
  /** Security groups this round: their cross-references are revoked before a retry. */
  readonly securityGroupIds: readonly string[];
  /** Set once this round's cross-references are revoked. */
  revoked?: boolean;
}

/**
 * Kinds deleted by one call, by id. Without `background` the resource is gone when the call returns; with it,
 * the service deletes it in the background after accepting that call.
 */
const singleCallDeletes: Partial<
  Record<ResourceKind, { readonly call: (c: SweepClients, id: string) => Promise<unknown>; readonly background?: string }>
> = {
  "cloudformation-stack": { call: (c, id) => c.cloudformation.send(new DeleteStackCommand({ StackName: id })), background: "DeleteStack" },
  "msk-cluster": { call: (c, id) => c.kafka.send(new DeleteMskClusterCommand({ ClusterArn: id })), background: "DeleteCluster" },
  "elbv2-load-balancer": { call: (c, id) => c.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: id })) },
  "elbv2-target-group": { call: (c, id) => c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: id })) },
  "ec2-nat-gateway": { call: (c, id) => c.ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: id })), background: "DeleteNatGateway" },
  "ec2-volume": { call: (c, id) => c.ec2.send(new DeleteVolumeCommand({ VolumeId: id })) },
  "ec2-elastic-ip": { call: (c, id) => c.ec2.send(new ReleaseAddressCommand({ AllocationId: id })) },
  "ec2-subnet": { call: (c, id) => c.ec2.send(new DeleteSubnetCommand({ SubnetId: id })) },
  "ec2-route-table": { call: (c, id) => c.ec2.send(new DeleteRouteTableCommand({ RouteTableId: id })) },
  "ec2-vpc": { call: (c, id) => c.ec2.send(new DeleteVpcCommand({ VpcId: id })) },
  "logs-log-group": { call: (c, id) => c.logs.send(new DeleteLogGroupCommand({ logGroupName: id })) },
};

export async function deleteResource(clients: SweepClients, r: FoundResource, round: DeleteContext): Promise<Outcome> {
  const { ec2 } = clients;
  const gone: Outcome = { status: "gone" };
  const deleting = (detail: string): Outcome => ({ status: "deleting", detail });
  return attempt(async (): Promise<Outcome> => {
    const single = singleCallDeletes[r.kind];
    if (single !== undefined) {
      await single.call(clients, r.id);
      return single.background === undefined ? gone : deleting(`${single.background} accepted`);
    }
    switch (r.kind) {
      case "eks-nodegroup":
        await clients.eks.send(new DeleteNodegroupCommand({ clusterName: r.detail?.clusterName, nodegroupName: r.id }));
        return deleting("DeleteNodegroup accepted");
      case "eks-cluster":
        if (round.remainingKinds.has("eks-nodegroup")) return { status: "blocked", detail: "waits for its node groups" };
        await clients.eks.send(new DeleteEksClusterCommand({ name: r.id }));
        return deleting("DeleteCluster accepted");
      case "ec2-instance":
        // A managed node group's Auto Scaling group would start a replacement: its instances go with it.
        if (r.tags["eks:nodegroup-name"] !== undefined && round.remainingKinds.has("eks-nodegroup")) {
          return { status: "blocked", detail: `waits for node group ${r.tags["eks:nodegroup-name"]}` };
        }
        await ec2.send(new TerminateInstancesCommand({ InstanceIds: [r.id] }));
        return deleting("TerminateInstances accepted");
      case "ec2-vpc-endpoint": {
        const out = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [r.id] }));
        const failure = out.Unsuccessful?.[0]?.Error;
        return failure === undefined
          ? deleting("DeleteVpcEndpoints accepted")
          : outcomeOfError(Object.assign(new Error(failure.Message), { name: failure.Code ?? "Error" }));
      }
      case "ec2-network-interface":
        if (r.detail?.requesterManaged === "true" || (r.state === "in-use" && r.detail?.attachedTo === undefined)) {
          return {
            status: "blocked",
            detail: `owned by an AWS service (${r.detail?.interfaceType || r.detail?.description || "in use"}): goes with its owner`,
          };
        }
        await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: r.id }));
        return gone;
      case "ec2-security-group":
        try {
          await ec2.send(new DeleteSecurityGroupCommand({ GroupId: r.id }));
          return gone;
        } catch (error) {
          const outcome = outcomeOfError(error);
          // Groups that name each other never delete: drop the cross-references, retry next round.
          if (outcome.status === "blocked" && round.revoked !== true) {
            round.revoked = true;
            await revokeGroupReferences(ec2, round.securityGroupIds);
          }
          return outcome;
        }
      case "ec2-internet-gateway": {
        const igw = (await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [r.id] }))).InternetGateways?.[0];
        for (const a of igw?.Attachments ?? []) {
          if (a.VpcId !== undefined) await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: r.id, VpcId: a.VpcId }));
        }
        await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: r.id }));
        return gone;
      }
      case "msk-configuration":
        if (round.remainingKinds.has("msk-cluster")) return { status: "blocked", detail: "waits for the MSK clusters" };
        await clients.kafka.send(new DeleteConfigurationCommand({ Arn: r.id }));
        return deleting("DeleteConfiguration accepted");
      case "kms-key":
        await clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: r.id, PendingWindowInDays: 7 }));
        return { status: "scheduled", detail: "deletion scheduled in 7 days (the shortest window)" };
      case "s3-bucket":
        return emptyAndDeleteBucket(clients.s3, r.id);
      default:
        return {
          status: "manual",
          detail: `no deleter for ${r.type ?? "this type"}: it goes with its CloudFormation stack, or delete it by hand`,
        };
    }
  });
}
