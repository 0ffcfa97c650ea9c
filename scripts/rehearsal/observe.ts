/** What the rehearsal reads back from the cluster: where pods went, what is pending and why, PDBs, workloads. */
import type { Kubectl } from "./kubectl.ts";

interface Condition {
  type: string;
  status: string;
  message?: string;
}
interface Meta {
  name: string;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
  generation?: number;
}
export interface KPod {
  metadata: Meta;
  spec: { nodeName?: string; containers: { resources?: { requests?: { cpu?: string } } }[] };
  status?: { phase?: string; conditions?: Condition[] };
}
interface KNode {
  metadata: Meta;
  spec?: { unschedulable?: boolean };
  status?: { conditions?: Condition[]; allocatable?: { cpu?: string } };
}
interface KEvent {
  involvedObject: { kind: string; name: string };
  message: string;
  count?: number;
}
interface KPdb {
  metadata: Meta;
  status?: { currentHealthy?: number; desiredHealthy?: number; disruptionsAllowed?: number; expectedPods?: number };
}
interface KDeployment {
  metadata: Meta;
  spec: { replicas?: number };
  status?: {
    observedGeneration?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}
interface KStatefulSet {
  metadata: Meta;
  spec: { replicas?: number };
  status?: { readyReplicas?: number };
}
interface KJob {
  metadata: Meta;
  status?: { failed?: number; conditions?: Condition[] };
}
type List<T> = { items: T[] };

export interface NodeView {
  readonly name: string;
  readonly zone: string;
  readonly ready: boolean;
  readonly unschedulable: boolean;
  readonly pods: number;
  /** Sum of the CPU requests of the pods on it over its allocatable CPU, in per cent. */
  readonly cpuRequestedPercent: number;
  readonly byApp: Record<string, number>;
}

export interface Snapshot {
  readonly nodes: NodeView[];
  readonly podsPerZone: Record<string, Record<string, number>>;
  readonly pending: { pod: string; reason: string }[];
  /** Pods the controllers could not create (admission refused them): the controllers' FailedCreate events. */
  readonly failedCreates: { object: string; message: string; count: number }[];
  readonly pdbs: { name: string; currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number; expectedPods: number }[];
  readonly deployments: { name: string; replicas: number; ready: number; updated: number; available: boolean }[];
  readonly statefulSets: { name: string; replicas: number; ready: number }[];
  readonly jobs: { name: string; complete: boolean; failed: number }[];
}

/** CPU quantity ("2", "500m", "1.5") in millicores. */
export function millicores(q: string | undefined): number {
  if (q === undefined) return 0;
  if (q.endsWith("m")) return Number(q.slice(0, -1));
  return Math.round(Number(q) * 1000);
}

const appOf = (pod: KPod): string => pod.metadata.labels?.["app.kubernetes.io/name"] ?? pod.metadata.name;

export async function snapshot(kubectl: Kubectl, namespace: string): Promise<Snapshot> {
  const [nodes, pods, events, pdbs, deployments, statefulSets, jobs] = await Promise.all([
    kubectl.json<List<KNode>>(["get", "nodes"]),
    kubectl.json<List<KPod>>(["get", "pods", "-n", namespace]),
    kubectl.json<List<KEvent>>(["get", "events", "-n", namespace, "--field-selector", "reason=FailedCreate"]),
    kubectl.json<List<KPdb>>(["get", "pdb", "-n", namespace]),
    kubectl.json<List<KDeployment>>(["get", "deployments", "-n", namespace]),
    kubectl.json<List<KStatefulSet>>(["get", "statefulsets", "-n", namespace]),
    kubectl.json<List<KJob>>(["get", "jobs", "-n", namespace]),
  ]);
  const zoneOf = new Map<string, string>(
    nodes.items.map((n) => [n.metadata.name, n.metadata.labels?.["topology.kubernetes.io/zone"] ?? "?"]),
  );
  const live = pods.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
  const nodeViews: NodeView[] = nodes.items.map((n) => {
    const on = live.filter((p) => p.spec.nodeName === n.metadata.name);
    const requested = on.reduce((sum, p) => sum + p.spec.containers.reduce((s, c) => s + millicores(c.resources?.requests?.cpu), 0), 0);
    const byApp: Record<string, number> = {};
    for (const p of on) byApp[appOf(p)] = (byApp[appOf(p)] ?? 0) + 1;
    return {
      name: n.metadata.name,
      zone: zoneOf.get(n.metadata.name)!,
      ready: n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
      unschedulable: n.spec?.unschedulable === true,
      pods: on.length,
      cpuRequestedPercent: Math.round((1000 * requested) / millicores(n.status?.allocatable?.cpu)) / 10,
      byApp,
    };
  });
  const podsPerZone: Record<string, Record<string, number>> = {};
  for (const p of live) {
    if (!p.spec.nodeName) continue;
    const zone = zoneOf.get(p.spec.nodeName) ?? "?";
    podsPerZone[zone] ??= {};
    podsPerZone[zone][appOf(p)] = (podsPerZone[zone][appOf(p)] ?? 0) + 1;
  }
  const pending = live
    .filter((p) => !p.spec.nodeName)
    .map((p) => {
      const c = p.status?.conditions?.find((x) => x.type === "PodScheduled");
      return { pod: p.metadata.name, reason: c?.message ?? "not yet seen by the scheduler" };
    });
  return {
    nodes: nodeViews,
    podsPerZone,
    pending,
    failedCreates: events.items.map((e) => ({
      object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
      message: e.message,
      count: e.count ?? 1,
    })),
    pdbs: pdbs.items.map((p) => ({
      name: p.metadata.name,
      currentHealthy: p.status?.currentHealthy ?? 0,
      desiredHealthy: p.status?.desiredHealthy ?? 0,
      disruptionsAllowed: p.status?.disruptionsAllowed ?? 0,
      expectedPods: p.status?.expectedPods ?? 0,
    })),
    deployments: deployments.items.map((d) => ({
      name: d.metadata.name,
      replicas: d.spec.replicas ?? 1,
      ready: d.status?.readyReplicas ?? 0,
      updated: d.status?.updatedReplicas ?? 0,
      available:
        (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
        (d.status?.updatedReplicas ?? 0) === (d.spec.replicas ?? 1) &&
        (d.status?.availableReplicas ?? 0) === (d.spec.replicas ?? 1) &&
        (d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ?? false),
    })),
    statefulSets: statefulSets.items.map((s) => ({
      name: s.metadata.name,
      replicas: s.spec.replicas ?? 1,
      ready: s.status?.readyReplicas ?? 0,
    })),
    jobs: jobs.items.map((j) => ({
      name: j.metadata.name,
      complete: j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ?? false,
      failed: j.status?.failed ?? 0,
    })),
  };
}
