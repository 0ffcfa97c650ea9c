/**
 * The Prometheus Operator CRDs, installed from their Helm chart: the kubectl Lambda's 262,144-byte payload
 * limit rules out applying the ~1 MB CRDs as a manifest. The monitoring chart's custom resources need them.
 */
import type * as eks from "aws-cdk-lib/aws-eks-v2";
import type { Construct, IDependable } from "constructs";
import { ParentScoped } from "./parent-scoped.ts";

/** A Helm chart by repository, name and version. */
export interface HelmChartRef {
  /** The chart's name in its repository. */
  readonly chart: string;
  /** URL of the Helm repository. */
  readonly repository: string;
  /** The chart's version. */
  readonly version: string;
}

export interface PrometheusOperatorCrdsProps {
  /** The cluster the CRDs are installed in. */
  readonly cluster: eks.Cluster;
  /** The CRDs chart; its name is also the release's. */
  readonly chart: HelmChartRef;
  /** The nodes the Helm Lambda's job needs: the release is installed after them. */
  readonly nodes: IDependable;
}

export class PrometheusOperatorCrds extends ParentScoped {
  readonly release: eks.HelmChart;

  constructor(scope: Construct, id: string, props: PrometheusOperatorCrdsProps) {
    super(scope, id);
    this.release = props.cluster.addHelmChart("PrometheusOperatorCrds", {
      ...props.chart,
      release: props.chart.chart,
      namespace: "kube-system",
      wait: true,
    });
    this.release.node.addDependency(props.nodes);
  }
}
