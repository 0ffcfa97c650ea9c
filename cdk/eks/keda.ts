/**
 * KEDA, installed from its Helm chart when the plan scales detector pods on lag (size input
 * `detectorAutoscaling=keda`; charts/keda-scaled-object.ts makes the ScaledObject). Its operator reads the
 * detector group's lag from MSK with IAM auth: the operator's ServiceAccount gets a Pod Identity role that may do
 * one thing, assume the detector's role (the ScaledObject's TriggerAuthentication names it), and the detector
 * role's trust admits that role. So KEDA reads Kafka with exactly the detector's MSK permissions and no others.
 *
 * The control plane reaches KEDA's metrics API server (443 → 6443) and admission webhooks on the nodes through
 * the cluster security group, which the worker nodes carry (cdk/eks/worker-nodes.ts).
 *
 * Teardown: the chart manifests (with the ScaledObject, which carries KEDA's finalizer) are applied after this
 * release and so deleted before it, while the operator still runs to remove its finalizer.
 */
import type * as eks from "aws-cdk-lib/aws-eks-v2";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Construct, IDependable } from "constructs";
import { ParentScoped } from "./parent-scoped.ts";
import { podIdentityRole } from "./pod-identities.ts";
import type { HelmChartRef } from "./prometheus-operator-crds.ts";

/** KEDA's namespace and its operator's ServiceAccount (set in the chart's values, associated by name). */
export const kedaNamespace = "keda";
export const kedaOperatorServiceAccount = "keda-operator";

export interface KedaProps {
  /** The cluster KEDA is installed in. */
  readonly cluster: eks.Cluster;
  /** The `keda` chart of kedacore/charts; its name is also the release's. */
  readonly chart: HelmChartRef;
  /** The nodes KEDA runs on: the release is installed after them. */
  readonly nodes: IDependable;
  /** The Pod Identity agent add-on: the operator's association is created after it. */
  readonly agent: IDependable;
  /** The detector pods' role, which the operator assumes to read their group's lag. */
  readonly detectorRole: iam.Role;
}

export class Keda extends ParentScoped {
  readonly release: eks.HelmChart;
  /** The operator's own role: it may only assume the detector role. */
  readonly operatorRole: iam.Role;

  constructor(scope: Construct, id: string, props: KedaProps) {
    super(scope, id);
    const { detectorRole } = props;
    const operator = podIdentityRole(this.parent, "KedaOperator", {
      cluster: props.cluster,
      namespace: kedaNamespace,
      serviceAccount: kedaOperatorServiceAccount,
      agent: props.agent,
      // TagSession too: the operator's session carries Pod Identity's session tags into the chained session.
      statements: [new iam.PolicyStatement({ actions: ["sts:AssumeRole", "sts:TagSession"], resources: [detectorRole.roleArn] })],
    });
    this.operatorRole = operator.role;
    detectorRole.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ["sts:AssumeRole", "sts:TagSession"],
        principals: [new iam.ArnPrincipal(this.operatorRole.roleArn)],
      }),
    );

    this.release = props.cluster.addHelmChart("Keda", {
      ...props.chart,
      release: props.chart.chart,
      namespace: kedaNamespace,
      createNamespace: true,
      values: { serviceAccount: { operator: { name: kedaOperatorServiceAccount } } },
      wait: true,
    });
    // Pod Identity gives credentials to pods created after the association: the operator's must not come first.
    this.release.node.addDependency(props.nodes, operator.association);
  }
}
