/**
 * The namespace everything runs in: it enforces the "restricted" Pod Security Standard and denies all
 * traffic by default (each workload's chart allows what it needs).
 */
import { Chart, type ChartProps } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { denyAll } from "./network-policy.ts";
import { partOf } from "./names.ts";
import { cdk8sPlusApiLevel } from "../cdk/versions.ts";

export interface NamespaceChartProps extends ChartProps {
  readonly namespace: string;
}

export class NamespaceChart extends Chart {
  readonly namespaceObject: k8s.KubeNamespace;

  constructor(scope: Construct, id: string, props: NamespaceChartProps) {
    // Not the chart's default namespace: it would also land on the cluster-scoped objects here, which have none
    // (the server drops it). Each namespaced object names its namespace itself.
    super(scope, id, { ...props, namespace: undefined });
    // The profile as of the API level the pods were written to, not "latest": a cluster upgrade leaves it be.
    const pss = (mode: string) => ({
      [`pod-security.kubernetes.io/${mode}`]: "restricted",
      [`pod-security.kubernetes.io/${mode}-version`]: `v${cdk8sPlusApiLevel}`,
    });
    this.namespaceObject = new k8s.KubeNamespace(this, "namespace", {
      metadata: {
        name: props.namespace,
        labels: { "app.kubernetes.io/part-of": partOf, ...pss("enforce"), ...pss("audit"), ...pss("warn") },
      },
    });
    denyAll(this, props.namespace);
  }
}
