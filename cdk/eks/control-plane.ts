/**
 * The EKS control plane: the cluster, its log group and the KMS key of its secrets. Kubernetes secrets are
 * envelope-encrypted with a key of this stack, which `cdk destroy` schedules for deletion (a key pending
 * deletion is not billed).
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import * as kms from "aws-cdk-lib/aws-kms";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { ownedLogGroup } from "../owned-log-group.ts";
import { ParentScoped } from "./parent-scoped.ts";

/** KMS's shortest deletion window: after `cdk destroy` the key waits this long, unbilled, then is gone. */
export const secretsKeyPendingWindow = Duration.days(7);

export interface ControlPlaneProps {
  /** The cluster's name; its control-plane log group is `/aws/eks/<name>/cluster`. */
  readonly clusterName: string;
  /** Kubernetes version of the control plane. */
  readonly version: eks.KubernetesVersion;
  /** The kubectl Lambda layer of `version`'s minor (the kubectl provider applies the manifests with it). */
  readonly kubectlLayer: new (scope: Construct, id: string) => lambda.ILayerVersion;
  /** The VPC the cluster is in. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the control plane's network interfaces (the workers' subnets). */
  readonly subnets: ec2.ISubnet[];
  /** Who reaches the API endpoint, from where (cdk/eks/cluster-access.ts `endpointAccessFor`). */
  readonly endpointAccess: eks.EndpointAccess;
}

export class ControlPlane extends ParentScoped {
  readonly cluster: eks.Cluster;
  readonly secretsKey: kms.Key;

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    const { clusterName } = props;
    // EKS creates /aws/eks/<name>/cluster itself; made here first, it is owned and deleted with the stack.
    const logs = ownedLogGroup(this.parent, "ControlPlaneLogs", `/aws/eks/${clusterName}/cluster`);

    this.secretsKey = new kms.Key(this.parent, "SecretsKey", {
      description: `Envelope encryption of the Kubernetes secrets of ${clusterName}`,
      enableKeyRotation: true,
      pendingWindow: secretsKeyPendingWindow,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.cluster = new eks.Cluster(this.parent, "Cluster", {
      clusterName,
      version: props.version,
      vpc: props.vpc,
      vpcSubnets: [{ subnets: props.subnets }],
      // No default capacity: the workers are the node group of cdk/eks/worker-nodes.ts, with a launch template.
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      endpointAccess: props.endpointAccess,
      secretsEncryptionKey: this.secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      kubectlProviderOptions: { kubectlLayer: new props.kubectlLayer(this.parent, "KubectlLayer") },
    });
    this.cluster.node.addDependency(logs);
  }
}
