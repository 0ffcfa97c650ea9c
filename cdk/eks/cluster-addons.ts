/**
 * The managed add-ons the workloads rely on: the EKS Pod Identity agent (the pods' AWS credentials) and the
 * VPC CNI with its network policy agent on (without it EKS ignores the charts' NetworkPolicies: deny by
 * default, then one allow list per workload). Both run on the nodes, so both wait for the node group.
 */
import type { CfnResource } from "aws-cdk-lib";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import type { Construct, IDependable } from "constructs";
import { ParentScoped } from "./parent-scoped.ts";

/** The `vpc-cni` add-on's configuration: enforce NetworkPolicies (the add-on's network policy agent). */
export const vpcCniConfiguration = { enableNetworkPolicy: "true" } as const;

export interface ClusterAddonsProps {
  /** The cluster the add-ons are installed in. */
  readonly cluster: eks.Cluster;
  /** The nodes the add-ons' daemons run on: each add-on is created after them. */
  readonly nodes: IDependable;
}

export class ClusterAddons extends ParentScoped {
  readonly podIdentityAgent: eks.Addon;
  readonly vpcCni: eks.Addon;

  constructor(scope: Construct, id: string, props: ClusterAddonsProps) {
    super(scope, id);
    this.podIdentityAgent = new eks.Addon(this.parent, "PodIdentityAgent", {
      cluster: props.cluster,
      addonName: "eks-pod-identity-agent",
    });
    this.podIdentityAgent.node.addDependency(props.nodes);

    // The cluster starts with a self-managed vpc-cni; OVERWRITE lets the add-on take over its fields.
    this.vpcCni = new eks.Addon(this.parent, "VpcCni", {
      cluster: props.cluster,
      addonName: "vpc-cni",
      configurationValues: vpcCniConfiguration,
    });
    (this.vpcCni.node.defaultChild as CfnResource).addPropertyOverride("ResolveConflicts", "OVERWRITE");
    this.vpcCni.node.addDependency(props.nodes);
  }
}
