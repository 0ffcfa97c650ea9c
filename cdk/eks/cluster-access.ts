/**
 * Who may use the cluster's API, and from where (cdk/access-input.ts): the endpoint is private unless the user
 * names public CIDRs, and the principal the user names gets an access entry with the cluster-admin policy
 * (CloudFormation, not the person deploying, is the cluster's creator).
 */
import * as eks from "aws-cdk-lib/aws-eks-v2";
import type { Construct } from "constructs";
import type { AccessInput } from "../access-input.ts";
import { ParentScoped } from "./parent-scoped.ts";

/** Private only without named CIDRs; else public for those CIDRs and private for the VPC (nodes, kubectl). */
export const endpointAccessFor = (access: AccessInput): eks.EndpointAccess =>
  access.apiAccessCidrs.length === 0
    ? eks.EndpointAccess.PRIVATE
    : eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...access.apiAccessCidrs);

export interface ClusterAccessProps {
  /** The cluster to grant access to. */
  readonly cluster: eks.Cluster;
  /** IAM principal ARN (role or user) that administers the cluster (cdk/access-input.ts `clusterAdminArn`). */
  readonly clusterAdminArn: string;
}

export class ClusterAccess extends ParentScoped {
  /** The administrator's access entry (cluster-admin policy, cluster scope). */
  readonly clusterAdmin: eks.AccessEntry;

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    this.clusterAdmin = props.cluster.grantClusterAdmin("ClusterAdmin", props.clusterAdminArn);
  }
}
