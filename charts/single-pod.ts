/**
 * The Deployment of a monitoring tool that runs as one pod holding its state in memory or an emptyDir (Grafana,
 * Jaeger): one replica, replaced by Recreate because a second pod would split the state; the "restricted"
 * security settings on the pod and every container; the tool's own service account, without a token.
 */
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { objectLabels, selectorLabels, type Component } from "./names.ts";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./pod-security.ts";

export interface SinglePodProps {
  readonly name: Component;
  readonly namespace: string;
  /** The image's own non-root user. */
  readonly uid: number;
  /** The containers, without securityContext (set here). */
  readonly containers: readonly Omit<k8s.Container, "securityContext">[];
  readonly volumes: readonly k8s.Volume[];
}

/** The tool's labels and selector, and its service account (without a token: the tools call no Kubernetes API). */
export function singlePodIdentity(scope: Construct, name: Component, namespace: string) {
  const labels = { ...objectLabels(name) };
  new k8s.KubeServiceAccount(scope, "service-account", {
    metadata: { name, namespace, labels },
    automountServiceAccountToken: false,
  });
  return { labels, selector: { ...selectorLabels(name) } };
}

export function singlePodDeployment(scope: Construct, props: SinglePodProps): k8s.KubeDeployment {
  const { name, namespace } = props;
  const labels = { ...objectLabels(name) };
  return new k8s.KubeDeployment(scope, "deployment", {
    metadata: { name, namespace, labels },
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { ...selectorLabels(name) } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          securityContext: restrictedPodSecurityContext(props.uid),
          containers: props.containers.map((c) => ({ ...c, securityContext: restrictedContainerSecurityContext() })),
          volumes: [...props.volumes],
        },
      },
    },
  });
}
