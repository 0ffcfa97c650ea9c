/**
 * The AWS identities of the detector, load generator and rebalance Job pods: an IAM role each, bound with EKS Pod Identity
 * to its ServiceAccount (cdk/workload-names.ts), with the permissions of cdk/workload-identity.ts.
 */
import { Stack, Validations } from "aws-cdk-lib";
import * as eks from "aws-cdk-lib/aws-eks-v2";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Construct, IDependable } from "constructs";
import { detectorStatements, loadgenStatements, mskArns, rebalancerStatements, type MskArns } from "../workload-identity.ts";
import { serviceAccounts } from "../workload-names.ts";
import { ParentScoped } from "./parent-scoped.ts";

export interface PodIdentitiesProps {
  /** The cluster whose pods get the identities. */
  readonly cluster: eks.Cluster;
  /** The namespace of the ServiceAccounts (cdk/workload-names.ts `workloadNamespace`). */
  readonly namespace: string;
  /** The Pod Identity agent add-on: the associations are created after it. */
  readonly agent: IDependable;
  /** Name of the MSK cluster the pods use (their permissions are on its topics and groups). */
  readonly kafkaClusterName: string;
  /** Secrets Manager ARN of the detector's Cassandra password. */
  readonly cassandraPasswordSecretArn: string;
  /** Secrets Manager ARN of the Cassandra cluster's CA certificate (public), which the detector trusts. */
  readonly cassandraTlsCaSecretArn: string;
}

type Workload = keyof typeof serviceAccounts;

export class PodIdentities extends ParentScoped {
  /** Each workload's role, by its ServiceAccount's key in cdk/workload-names.ts. */
  readonly roles: Readonly<Record<Workload, iam.Role>>;

  constructor(scope: Construct, id: string, props: PodIdentitiesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const arns = mskArns(stack, props.kafkaClusterName);
    this.roles = {
      detector: this.podRole(props, "detector", detectorStatements(arns, props.cassandraPasswordSecretArn, props.cassandraTlsCaSecretArn)),
      loadgen: this.podRole(props, "loadgen", loadgenStatements(arns)),
      rebalancer: this.podRole(props, "rebalancer", rebalancerStatements(arns)),
    };
  }

  private podRole(props: PodIdentitiesProps, name: Workload, statements: iam.PolicyStatement[]): iam.Role {
    const title = `${name[0]!.toUpperCase()}${name.slice(1)}`;
    const { role } = podIdentityRole(this.parent, title, { ...props, serviceAccount: serviceAccounts[name], statements });
    acknowledgeMskWildcards(role, name, props.kafkaClusterName);
    return role;
  }
}

export interface PodIdentityRoleProps {
  readonly cluster: eks.Cluster;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The Pod Identity agent add-on: the association is created after it. */
  readonly agent: IDependable;
  /** What the role may do. */
  readonly statements: readonly iam.PolicyStatement[];
}

/**
 * An IAM role that EKS Pod Identity hands to the pods of one ServiceAccount (`<title>Role`, associated by
 * `<title>PodIdentity`), allowed `statements`. The trust allows sts:TagSession as well: Pod Identity tags
 * each session with the cluster, namespace and ServiceAccount.
 */
export function podIdentityRole(
  scope: Construct,
  title: string,
  props: PodIdentityRoleProps,
): { role: iam.Role; association: eks.CfnPodIdentityAssociation } {
  const { namespace, serviceAccount } = props;
  const role = new iam.Role(scope, `${title}Role`, {
    assumedBy: new iam.ServicePrincipal("pods.eks.amazonaws.com"),
    description: `Pod Identity of ${namespace}/${serviceAccount}`,
  });
  role.assumeRolePolicy?.addStatements(
    new iam.PolicyStatement({
      actions: ["sts:TagSession"],
      principals: [new iam.ServicePrincipal("pods.eks.amazonaws.com")],
    }),
  );
  for (const s of props.statements) role.addToPolicy(s);
  const association = new eks.CfnPodIdentityAssociation(scope, `${title}PodIdentity`, {
    clusterName: props.cluster.clusterName,
    namespace,
    serviceAccount,
    roleArn: role.roleArn,
  });
  association.node.addDependency(props.agent);
  return { role, association };
}

/**
 * cdk-nag flags every `*` in a resource. The role's MSK ARNs have one where the cluster's UUID goes; the
 * findings are named by the ARNs rendered with cdk-nag's placeholder for the account.
 */
function acknowledgeMskWildcards(role: iam.Role, name: Workload, kafkaClusterName: string): void {
  const nagArns = mskArns(Stack.of(role), kafkaClusterName, "<AWS::AccountId>");
  const of: Record<Workload, (a: MskArns) => iam.PolicyStatement[]> = {
    detector: (a) => detectorStatements(a, ""),
    loadgen: loadgenStatements,
    rebalancer: rebalancerStatements,
  };
  const statements = of[name](nagArns);
  const topicsAndGroups = statements.flatMap((st) => st.resources).filter((r) => /:(topic|group)\//.test(r));
  Validations.of(role).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::${nagArns.cluster}]`,
      reason: "MSK appends a UUID assigned at creation to cluster ARNs; every other part of the ARN is fixed.",
    },
    ...topicsAndGroups.map((r) => ({
      id: `AwsSolutions-IAM5[Resource::${r}]`,
      reason: "Topic and group ARNs carry the MSK cluster's UUID (unknown before creation); the names are exact.",
    })),
  );
}
