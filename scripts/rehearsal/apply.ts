/**
 * Puts manifests on the rehearsal cluster as the EKS stack does: the operator's CRDs first (the Helm chart
 * `prometheus-operator-crds`, here the same version's CRDs from the operator's Go module), then each chart as
 * one server-side apply, in dependency order, each object labelled like the CDK's KubernetesManifest labels it
 * (`aws.cdk.eks/prune-<id>`), so objects a later apply no longer contains can be pruned by that label.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Yaml } from "cdk8s";
import { prometheusOperatorCrdsChart } from "../../cdk/eks-stack.ts";
import type { Kubectl } from "./kubectl.ts";
import { refKey, refOf, type ChartManifest, type ObjectRef } from "./manifests.ts";
import { moduleDir } from "./cluster.ts";
import { goComponents, moduleVersionOf } from "./go-components.ts";

export const fieldManager = "anomaly-kit";
/** The CDK's label prefix for pruning (aws-cdk-lib aws-eks KubernetesManifest). */
export const pruneLabelPrefix = "aws.cdk.eks/prune-";

/**
 * kubectl's default prune list (`kubectl apply --prune` without --prune-allowlist), which the CDK's kubectl
 * handler uses: an object of any other kind that a later stage drops stays on an EKS cluster.
 */
export const kubectlDefaultPruneKinds = [
  "ConfigMap",
  "Endpoints",
  "Namespace",
  "PersistentVolumeClaim",
  "PersistentVolume",
  "Pod",
  "ReplicationController",
  "Secret",
  "Service",
  "Job",
  "CronJob",
  "Ingress",
  "DaemonSet",
  "Deployment",
  "ReplicaSet",
  "StatefulSet",
] as const;

export interface ApplyOutcome {
  readonly chart: string;
  readonly objects: number;
  readonly seconds: number;
  /** Objects the server refused, with its message. */
  readonly rejected: { object: string; message: string }[];
  /** Warnings the server returned (deprecated APIs, PodSecurity warn mode, unknown fields, ...). */
  readonly warnings: string[];
}

/** The operator's CRD manifests for the pinned version (its Go module ships them). */
export function operatorCrdFiles(): string[] {
  const operator = goComponents.find((c) => c.name === "prometheus-operator")!;
  const dir = join(moduleDir(operator.module, moduleVersionOf(operator)), "example", "prometheus-operator-crd");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
}

/** Parses kubectl's stderr into per-object errors and server warnings. */
export function parseKubectlStderr(stderr: string): {
  rejected: { object: string; message: string }[];
  warnings: string[];
  other: string[];
} {
  const rejected: { object: string; message: string }[] = [];
  const warnings: string[] = [];
  const other: string[] = [];
  for (const line of stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)) {
    const w = /^Warning: (.*)$/.exec(line);
    if (w) {
      warnings.push(w[1]!);
      continue;
    }
    // "Error from server (Forbidden): error when creating "STDIN": pods "x" is forbidden: ..." or
    // "Error from server (Invalid): error when applying patch: ... Name: "x", Namespace: "y"" — keep it whole.
    const e = /^(?:Error from server(?: \(\w+\))?|error): (.*)$/.exec(line);
    if (e) {
      const name =
        /(?:Name|name): "([^"]+)"/.exec(line)?.[1] ?? /\b\w+(?:\.[\w.]+)? "([^"]+)" (?:is invalid|is forbidden)/.exec(line)?.[1] ?? "?";
      rejected.push({ object: name, message: e[1]! });
      continue;
    }
    other.push(line);
  }
  return { rejected, warnings, other };
}

/** Server-side applies the operator's CRDs and waits until each is Established. */
export async function applyCrds(kubectl: Kubectl): Promise<ApplyOutcome> {
  const started = Date.now();
  const files = operatorCrdFiles();
  const args = ["apply", "--server-side", `--field-manager=${fieldManager}`, ...files.flatMap((f) => ["-f", f])];
  const r = await kubectl.run(args);
  const parsed = parseKubectlStderr(r.stderr);
  if (r.code !== 0 && parsed.rejected.length === 0)
    throw new Error(`CRDs (${prometheusOperatorCrdsChart.chart}): kubectl failed: ${r.stderr.trim()}`);
  await kubectl.ok(["wait", "--for=condition=Established", "--timeout=60s", ...files.flatMap((f) => ["-f", f])]);
  return {
    chart: `${prometheusOperatorCrdsChart.chart} (CRDs)`,
    objects: files.length,
    seconds: (Date.now() - started) / 1000,
    rejected: parsed.rejected,
    warnings: parsed.warnings,
  };
}

/** The objects of one chart with the CDK's prune label added (a copy; the charts' objects are untouched). */
export function withPruneLabel(m: ChartManifest): Record<string, unknown>[] {
  const label = pruneLabelPrefix + m.chart;
  return m.objects.map((o) => {
    const meta = o.metadata as { labels?: Record<string, string> };
    return { ...o, metadata: { ...meta, labels: { [label]: "", ...meta.labels } } };
  });
}

export async function applyChart(kubectl: Kubectl, m: ChartManifest): Promise<ApplyOutcome> {
  const started = Date.now();
  const yaml = Yaml.stringify(...withPruneLabel(m));
  const r = await kubectl.run(["apply", "--server-side", `--field-manager=${fieldManager}`, "-f", "-"], yaml);
  const parsed = parseKubectlStderr(r.stderr);
  if (r.code !== 0 && parsed.rejected.length === 0) {
    parsed.rejected.push({ object: m.chart, message: r.stderr.trim() || `kubectl exited ${r.code}` });
  }
  return {
    chart: m.chart,
    objects: m.objects.length,
    seconds: (Date.now() - started) / 1000,
    rejected: parsed.rejected,
    warnings: parsed.warnings,
  };
}

export interface LiveObject {
  readonly ref: ObjectRef;
  readonly resourceVersion: string;
  readonly generation?: number;
}

/** The live version of each applied object: a re-apply that changes nothing leaves every one as it was. */
export async function liveVersions(kubectl: Kubectl, manifests: readonly ChartManifest[]): Promise<Map<string, LiveObject>> {
  const out = new Map<string, LiveObject>();
  const yaml = Yaml.stringify(...manifests.flatMap((m) => m.objects));
  const list = JSON.parse(await kubectl.ok(["get", "-f", "-", "-o", "json"], yaml)) as { items: Record<string, unknown>[] };
  for (const item of list.items) {
    const meta = item.metadata as { resourceVersion: string; generation?: number };
    const ref = refOf(item);
    out.set(refKey(ref), { ref, resourceVersion: meta.resourceVersion, generation: meta.generation });
  }
  return out;
}

/** Kinds (with API group) the charts use, for listing by the prune label: `kind.version.group` as kubectl takes it. */
const resourceOf = (r: ObjectRef): string => {
  const [group, version] = r.apiVersion.includes("/") ? r.apiVersion.split("/") : ["", r.apiVersion];
  return group ? `${r.kind}.${version}.${group}` : r.kind;
};

export interface Pruned {
  readonly object: string;
  /** False when the EKS stack's apply would leave this object (its kind is outside kubectl's default prune list). */
  readonly prunedOnEks: boolean;
}

/**
 * Deletes the objects that carry a chart's prune label but are no longer in that chart (a stage applied over
 * another), for every kind the charts (now or before) contain. Returns what was deleted.
 */
export async function prune(kubectl: Kubectl, manifests: readonly ChartManifest[], previousKinds: readonly ObjectRef[]): Promise<Pruned[]> {
  const wanted = new Set(manifests.flatMap((m) => m.objects.map((o) => refKey(refOf(o)))));
  const kinds = new Map<string, ObjectRef>();
  for (const r of [...manifests.flatMap((m) => m.objects.map(refOf)), ...previousKinds]) kinds.set(resourceOf(r), r);
  const pruned: Pruned[] = [];
  for (const m of manifests) {
    const label = pruneLabelPrefix + m.chart;
    const list = JSON.parse(await kubectl.ok(["get", [...kinds.keys()].join(","), "--all-namespaces", "-l", label, "-o", "json"])) as {
      items: Record<string, unknown>[];
    };
    for (const item of list.items) {
      const ref = refOf(item);
      if (wanted.has(refKey(ref))) continue;
      const args = ["delete", resourceOf(ref), ref.name, "--wait=false", ...(ref.namespace ? ["-n", ref.namespace] : [])];
      await kubectl.ok(args);
      pruned.push({ object: refKey(ref), prunedOnEks: (kubectlDefaultPruneKinds as readonly string[]).includes(ref.kind) });
    }
  }
  return pruned;
}
