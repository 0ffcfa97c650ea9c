/**
 * NetworkPolicies, written as "this workload may receive X from Y and send Z to W". The namespace chart
 * denies everything by default; each workload's chart adds one policy that allows only what it needs.
 * (On EKS the VPC CNI enforces them once its network policy agent is enabled.)
 */
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { objectLabels, ports, selectorLabels, type Component } from "./names.ts";

export type Peer = k8s.NetworkPolicyPeer;

export interface Rule {
  /** Who may connect (ingress) or be connected to (egress); empty or omitted: anyone. */
  readonly peers?: readonly Peer[];
  readonly tcp?: readonly number[];
  readonly udp?: readonly number[];
}

/** Pods of one of the kit's workloads, in the same namespace. */
export const podsOf = (component: Component): Peer => ({ podSelector: { matchLabels: { ...selectorLabels(component) } } });

/** Addresses outside the cluster (the Kafka and Cassandra subnets, when known). */
export const cidr = (block: string): Peer => ({ ipBlock: { cidr: block } });

/** The cluster DNS (CoreDNS pods in kube-system). */
export const clusterDns: Rule = {
  peers: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ],
  tcp: [ports.dns],
  udp: [ports.dns],
};

/** The EKS Pod Identity agent on every node, where the AWS SDK gets the pod's credentials. */
export const podIdentityAgent: Rule = { peers: [{ ipBlock: { cidr: "169.254.170.23/32" } }], tcp: [80] };

/** AWS service endpoints (public or VPC interface endpoints): HTTPS to any address. */
export const awsApis: Rule = { tcp: [443] };

/** The Kubernetes API server (its address is outside the pod network, so by port only). */
export const kubernetesApi: Rule = { tcp: ports.kubernetesApi };

/** A rule's ports; none given means every port, written as no `ports` field (never an empty list). */
const portsOf = (rule: Rule): { ports?: k8s.NetworkPolicyPort[] } => {
  const list = [
    ...(rule.tcp ?? []).map((p) => ({ protocol: "TCP", port: k8s.IntOrString.fromNumber(p) })),
    ...(rule.udp ?? []).map((p) => ({ protocol: "UDP", port: k8s.IntOrString.fromNumber(p) })),
  ];
  return list.length === 0 ? {} : { ports: list };
};

/** Default deny: selects every pod in the namespace and allows nothing. */
export function denyAll(scope: Construct, namespace: string): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, "deny-all", {
    metadata: { name: "deny-all", namespace },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
  });
}

export function allowOnly(
  scope: Construct,
  namespace: string,
  component: Component,
  rules: { ingress: readonly Rule[]; egress: readonly Rule[] },
): k8s.KubeNetworkPolicy {
  return new k8s.KubeNetworkPolicy(scope, `${component}-network-policy`, {
    metadata: { name: component, namespace, labels: { ...objectLabels(component) } },
    spec: {
      podSelector: { matchLabels: { ...selectorLabels(component) } },
      policyTypes: ["Ingress", "Egress"],
      // No rules: the field is left out, not written as `[]`. The policy type alone denies that direction, and
      // the API server drops an empty list, so `ingress: []` would make every re-apply report "configured".
      ...(rules.ingress.length === 0
        ? {}
        : {
            ingress: rules.ingress.map((r) => ({
              ...(r.peers === undefined || r.peers.length === 0 ? {} : { from: [...r.peers] }),
              ...portsOf(r),
            })),
          }),
      ...(rules.egress.length === 0
        ? {}
        : {
            egress: rules.egress.map((r) => ({
              ...(r.peers === undefined || r.peers.length === 0 ? {} : { to: [...r.peers] }),
              ...portsOf(r),
            })),
          }),
    },
  });
}
