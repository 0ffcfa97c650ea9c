/**
 * A small evaluator of Kubernetes NetworkPolicy ingress (networking.k8s.io/v1 semantics) over synthesized
 * manifests: is a connection from a source (a pod, or an address outside the pod network) to a pod's port
 * allowed? Policies are additive: a pod selected by no Ingress policy admits everything; a selected pod admits
 * a connection when some rule of some selecting policy matches both its peer and its port.
 * Also the operator-made objects the charts do not contain (the Prometheus pods and their governing Service),
 * modelled on the Prometheus Operator's makeStatefulSet/makeStatefulSetService, so a route can be resolved.
 */
import type { K8sObject } from "../../charts/fixtures.ts";

export type Labels = Readonly<Record<string, string>>;
interface Expression {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: Expression[];
}
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: { from?: Peer[]; ports?: PolicyPort[] }[];
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}
export interface PodModel {
  readonly namespace: string;
  readonly labels: Labels;
  readonly containerPorts: readonly ContainerPort[];
}
export type Source =
  { readonly kind: "pod"; readonly namespace: string; readonly labels: Labels } | { readonly kind: "address"; readonly ip: string };

export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return true;
  const exact = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressions = (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case "In":
        return has && (e.values ?? []).includes(labels[e.key]!);
      case "NotIn":
        return !has || !(e.values ?? []).includes(labels[e.key]!);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
    }
  });
  return exact && expressions;
}

const ipToInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/") as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  const n = ipToInt(ip);
  return n >= start && n < start + size;
}

/** The labels a namespace carries: its own plus the one the API server sets on every namespace. */
function namespaceLabels(objects: readonly K8sObject[], namespace: string): Labels {
  const own = objects.find((o) => o.kind === "Namespace" && o.metadata.name === namespace)?.metadata.labels ?? {};
  return { ...own, "kubernetes.io/metadata.name": namespace };
}

function peerMatches(objects: readonly K8sObject[], peer: Peer, policyNamespace: string, source: Source): boolean {
  if (peer.ipBlock !== undefined) {
    // ipBlock is meant for addresses outside the cluster; a pod's own address is not modelled here.
    return (
      source.kind === "address" && inCidr(source.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(source.ip, c))
    );
  }
  if (source.kind !== "pod") return false;
  const nsOk =
    peer.namespaceSelector === undefined
      ? source.namespace === policyNamespace
      : selects(peer.namespaceSelector, namespaceLabels(objects, source.namespace));
  return nsOk && selects(peer.podSelector, source.labels);
}

function portMatches(p: PolicyPort, pod: PodModel, port: number, protocol: string): boolean {
  if ((p.protocol ?? "TCP") !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === "string")
    return pod.containerPorts.some((c) => c.name === p.port && c.containerPort === port && (c.protocol ?? "TCP") === protocol);
  return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
}

export interface IngressVerdict {
  readonly allowed: boolean;
  /** The policies that select the pod for ingress (empty: nothing isolates it). */
  readonly selectingPolicies: readonly string[];
}

/** Whether `source` may open a connection to `pod` on `port`, under the NetworkPolicies among `objects`. */
export function ingressAllowed(
  objects: readonly K8sObject[],
  pod: PodModel,
  source: Source,
  port: number,
  protocol = "TCP",
): IngressVerdict {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy" && (o.metadata.namespace ?? "") === pod.namespace);
  const selecting = policies.filter((o) => {
    const spec = o.spec as unknown as PolicySpec;
    const types = spec.policyTypes ?? ["Ingress"];
    return types.includes("Ingress") && selects(spec.podSelector, pod.labels);
  });
  if (selecting.length === 0) return { allowed: true, selectingPolicies: [] };
  const allowed = selecting.some((o) =>
    ((o.spec as unknown as PolicySpec).ingress ?? []).some(
      (rule) =>
        (rule.from === undefined ||
          rule.from.length === 0 ||
          rule.from.some((peer) => peerMatches(objects, peer, pod.namespace, source))) &&
        (rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, pod, port, protocol))),
    ),
  );
  return { allowed, selectingPolicies: selecting.map((o) => o.metadata.name) };
}

/** The Prometheus Operator's default port name and port of Prometheus' container and governing Service. */
const operatorDefaults = { portName: "web", port: 9090, governingService: "prometheus-operated" } as const;

interface PrometheusSpec {
  podMetadata?: { labels?: Labels };
  portName?: string;
  listenLocal?: boolean;
}

/** The pods the operator runs for a Prometheus resource: its selector labels over the CR's podMetadata labels. */
export function operatorPrometheusPod(cr: K8sObject): PodModel {
  const spec = (cr.spec ?? {}) as PrometheusSpec;
  const portName = spec.portName ?? operatorDefaults.portName;
  return {
    namespace: cr.metadata.namespace ?? "",
    labels: {
      ...(spec.podMetadata?.labels ?? {}),
      "app.kubernetes.io/name": "prometheus",
      "app.kubernetes.io/managed-by": "prometheus-operator",
      "app.kubernetes.io/instance": cr.metadata.name,
      prometheus: cr.metadata.name,
      "operator.prometheus.io/name": cr.metadata.name,
      "operator.prometheus.io/shard": "0",
    },
    // With listenLocal the operator publishes no container port (Prometheus listens on 127.0.0.1 only).
    containerPorts: spec.listenLocal === true ? [] : [{ name: portName, containerPort: operatorDefaults.port, protocol: "TCP" }],
  };
}

export interface ServiceModel {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Labels;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly targetPort: number | string }[];
}

/** The headless Service the operator makes for every Prometheus resource in a namespace. */
export function operatorGoverningService(cr: K8sObject): ServiceModel {
  const portName = ((cr.spec ?? {}) as PrometheusSpec).portName ?? operatorDefaults.portName;
  return {
    name: operatorDefaults.governingService,
    namespace: cr.metadata.namespace ?? "",
    selector: { "app.kubernetes.io/name": "prometheus" },
    ports: [{ name: portName, port: operatorDefaults.port, targetPort: portName }],
  };
}
