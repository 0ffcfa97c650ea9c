/**
 * The rehearsal's scenarios on one cluster, in order: a fresh stage (or `--from` a smaller one, then the stage
 * applied over it), a re-apply of unchanged manifests, a rolling update of the detector and load generator, a
 * node drain, and a zone lost. Each has a bound and fails with what was not reached and what the cluster says.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Yaml } from "cdk8s";
import { sizePlanFrom, type SizePlan } from "../../cdk/size/size-plan.ts";
import type { PresetName } from "../../cdk/size/size-input.ts";
import { components } from "../../charts/names.ts";
import { namespaceOf } from "../../charts/index.ts";
import { applyChart, applyCrds, liveVersions, prune, type ApplyOutcome, type Pruned } from "./apply.ts";
import { compressedTimings, type Cluster } from "./cluster.ts";
import { plannedNodes } from "./eks-nodes.ts";
import { rehearsalOptions, refOf, stageManifests, type ChartManifest, type ObjectRef } from "./manifests.ts";
import { expectedScrapeJobs, generatedScrapeJobs, startOperator } from "./operator.ts";
import type { Started } from "./processes.ts";
import { snapshot, type KPod, type Snapshot } from "./observe.ts";

/** Bounds of each scenario, in seconds of wall time on the 2-core machine (generous: a failure is a hang). */
export const bounds = {
  available: 420,
  rollingUpdate: 600,
  drain: 300,
  nodeNotReady: compressedTimings.nodeMonitorGracePeriodSeconds + compressedTimings.nodeLeaseDurationSeconds + 60,
  zoneRescheduled: compressedTimings.podEvictionTolerationSeconds + 180,
} as const;

export interface ScrapeCheck {
  readonly expected: string[];
  readonly generated: string[];
  readonly missing: string[];
  readonly unexpected: string[];
}

export interface PhaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly boundSeconds: number;
  readonly seconds: number;
  readonly message: string;
  readonly apply?: ApplyOutcome[];
  readonly pruned?: Pruned[];
  readonly changedOnReapply?: string[];
  readonly scrape?: ScrapeCheck;
  readonly minReadyDetectors?: number;
  readonly snapshot?: Snapshot;
}

export interface Context {
  readonly cluster: Cluster;
  readonly log: (line: string) => void;
  operator?: Started;
  manifests?: ChartManifest[];
  plan?: SizePlan;
  /** Every object applied so far (for pruning by kind). */
  applied: ObjectRef[];
}

const prometheusName = components.prometheus;

async function createNodes(ctx: Context, plan: SizePlan): Promise<number> {
  const nodes = plannedNodes(plan);
  const existing = new Set(
    (await ctx.cluster.kubectl.json<{ items: { metadata: { name: string } }[] }>(["get", "nodes"])).items.map((n) => n.metadata.name),
  );
  const added = nodes.filter((n) => !existing.has(n.name));
  // A plain create keeps the status it is given (capacity, allocatable; checked against this API server), where
  // an apply would drop it (status is reset on the main resource); kwok's stages keep those, add conditions and leases.
  if (added.length > 0) await ctx.cluster.kubectl.ok(["create", "-f", "-"], Yaml.stringify(...added.map((n) => n.manifest)));
  return nodes.length;
}

async function applyAll(ctx: Context, manifests: ChartManifest[]): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  for (const m of manifests) {
    const o = await applyChart(ctx.cluster.kubectl, m);
    outcomes.push(o);
    ctx.log(
      `  applied ${m.chart}: ${o.objects} objects in ${o.seconds.toFixed(1)} s${o.rejected.length ? `, ${o.rejected.length} REJECTED` : ""}${o.warnings.length ? `, ${o.warnings.length} warnings` : ""}`,
    );
    if (m.chart === "prometheusOperator" && ctx.operator === undefined) {
      ctx.operator = await startOperator(ctx.cluster, m, `${ctx.cluster.dir}/logs`);
      ctx.log("  the Prometheus Operator runs as the chart's ServiceAccount");
    }
  }
  ctx.applied.push(...manifests.flatMap((m) => m.objects.map(refOf)));
  return outcomes;
}

async function scrapeCheck(ctx: Context, manifests: ChartManifest[], namespace: string): Promise<ScrapeCheck> {
  const expected = expectedScrapeJobs(manifests);
  const generated = (await generatedScrapeJobs(ctx.cluster, namespace, prometheusName)) ?? [];
  return {
    expected,
    generated,
    missing: expected.filter((j) => !generated.includes(j)),
    unexpected: generated.filter((j) => !expected.includes(j)),
  };
}

/** Why the stage is not Available yet, or undefined when it is. */
function notAvailable(s: Snapshot, manifests: ChartManifest[], scrape: ScrapeCheck): string | undefined {
  const wanted = manifests.flatMap((m) => m.objects);
  const problems: string[] = [];
  for (const d of wanted.filter((o) => o.kind === "Deployment")) {
    const name = (d.metadata as { name: string }).name;
    const live = s.deployments.find((x) => x.name === name);
    if (!live?.available)
      problems.push(`Deployment ${name} ${live ? `${live.ready}/${live.replicas} ready, ${live.updated} updated` : "missing"}`);
  }
  for (const j of wanted.filter((o) => o.kind === "Job")) {
    const name = (j.metadata as { name: string }).name;
    if (!s.jobs.find((x) => x.name === name)?.complete) problems.push(`Job ${name} not complete`);
  }
  const sts = s.statefulSets.find((x) => x.name === `prometheus-${prometheusName}`);
  if (!sts || sts.ready < sts.replicas)
    problems.push(
      `StatefulSet prometheus-${prometheusName} ${sts ? `${sts.ready}/${sts.replicas} ready` : "not made by the operator yet"}`,
    );
  if (scrape.missing.length || scrape.unexpected.length) {
    problems.push(`scrape jobs: missing [${scrape.missing.join(", ")}] unexpected [${scrape.unexpected.join(", ")}]`);
  }
  if (problems.length === 0) return undefined;
  const pending = s.pending.slice(0, 5).map((p) => `${p.pod}: ${p.reason}`);
  const refused = s.failedCreates.slice(0, 5).map((f) => `${f.object}: ${f.message}`);
  return [
    ...problems,
    ...(pending.length ? [`pending: ${pending.join("; ")}`] : []),
    ...(refused.length ? [`refused: ${refused.join("; ")}`] : []),
  ].join("; ");
}

async function waitAvailable(ctx: Context, manifests: ChartManifest[], namespace: string, boundSeconds: number, started: number) {
  let last = "";
  let lastLog = 0;
  for (;;) {
    const s = await snapshot(ctx.cluster.kubectl, namespace);
    const scrape = await scrapeCheck(ctx, manifests, namespace);
    const why = notAvailable(s, manifests, scrape);
    const seconds = (Date.now() - started) / 1000;
    if (why === undefined) return { ok: true, seconds, message: "Available", snapshot: s, scrape };
    if (seconds > boundSeconds)
      return { ok: false, seconds, message: `not Available within ${boundSeconds} s: ${why}`, snapshot: s, scrape };
    if (why !== last && Date.now() - lastLog > 5_000) {
      ctx.log(`  waiting (${Math.round(seconds)} s): ${why.slice(0, 300)}`);
      last = why;
      lastLog = Date.now();
    }
    // Each look is 8 kubectl calls: every 2 s keeps the rehearsal's own CPU use low on a 2-core machine.
    await sleep(2_000);
  }
}

/** Fresh stage, or the stage applied over the current one (growth): nodes, CRDs (first time), charts, prune. */
export async function applyStage(ctx: Context, preset: PresetName, kind: "fresh" | "growth"): Promise<PhaseResult> {
  const started = Date.now();
  const plan = sizePlanFrom({ preset });
  const namespace = namespaceOf(plan);
  const manifests = stageManifests(plan);
  const nodes = await createNodes(ctx, plan);
  ctx.log(
    `${kind} ${preset}: ${nodes} ${plan.eks.instanceType} nodes over ${plan.availabilityZones.join(", ")}; ${plan.detector.pods} detectors, ${plan.load.pods} load generators`,
  );
  const apply: ApplyOutcome[] = [];
  if (kind === "fresh") {
    const crds = await applyCrds(ctx.cluster.kubectl);
    ctx.log(`  applied the operator's ${crds.objects} CRDs in ${crds.seconds.toFixed(1)} s`);
    apply.push(crds);
  }
  const previous = [...ctx.applied];
  apply.push(...(await applyAll(ctx, manifests)));
  const pruned = kind === "growth" ? await prune(ctx.cluster.kubectl, manifests, previous) : [];
  for (const p of pruned)
    ctx.log(
      `  pruned ${p.object}${p.prunedOnEks ? "" : " (the EKS stack's prune would leave it: kind outside kubectl's default prune list)"}`,
    );
  const result = await waitAvailable(ctx, manifests, namespace, bounds.available, started);
  ctx.manifests = manifests;
  ctx.plan = plan;
  const rejected = apply.flatMap((a) => a.rejected);
  const leftOnEks = pruned.filter((p) => !p.prunedOnEks);
  // A pod refused at creation and retried still ends Available: e.g. a Job applied before its ServiceAccount.
  const refused = result.snapshot.failedCreates;
  const ok = result.ok && rejected.length === 0 && leftOnEks.length === 0 && refused.length === 0;
  const message = !result.ok
    ? result.message
    : rejected.length
      ? `the server rejected ${rejected.length} objects: ${rejected.map((r) => `${r.object}: ${r.message}`).join("; ")}`
      : refused.length
        ? `pods refused at creation (then retried): ${refused.map((f) => `${f.object} x${f.count}: ${f.message}`).join("; ")}`
        : leftOnEks.length
          ? `objects of the earlier stage the EKS stack would leave behind: ${leftOnEks.map((p) => p.object).join(", ")}`
          : `Available after ${result.seconds.toFixed(1)} s`;
  ctx.log(`${kind} ${preset}: ${ok ? "ok" : "FAILED"}: ${message}`);
  return {
    name: `${kind} ${preset}`,
    ok,
    boundSeconds: bounds.available,
    seconds: result.seconds,
    message,
    apply,
    pruned,
    scrape: result.scrape,
    snapshot: result.snapshot,
  };
}

/** Applying the same manifests again must change nothing: no object's generation (or version) moves. */
export async function reapply(ctx: Context): Promise<PhaseResult> {
  const started = Date.now();
  const manifests = ctx.manifests!;
  const before = await liveVersions(ctx.cluster.kubectl, manifests);
  const apply = await applyAll(ctx, manifests);
  const after = await liveVersions(ctx.cluster.kubectl, manifests);
  const changed: string[] = [];
  for (const [key, b] of before) {
    const a = after.get(key);
    if (a === undefined) {
      changed.push(`${key} (gone)`);
      continue;
    }
    // Objects with a spec have a generation that moves only when the spec does; the rest, any write moves.
    const moved = b.generation !== undefined ? a.generation !== b.generation : a.resourceVersion !== b.resourceVersion;
    if (moved)
      changed.push(
        b.generation !== undefined
          ? `${key} (generation ${b.generation} -> ${a.generation})`
          : `${key} (resourceVersion ${b.resourceVersion} -> ${a.resourceVersion})`,
      );
  }
  const ok = changed.length === 0 && apply.every((a) => a.rejected.length === 0);
  const message = ok
    ? `re-apply of ${before.size} unchanged objects changed none`
    : `re-apply of unchanged manifests changed ${changed.length}: ${changed.join(", ")}`;
  ctx.log(`re-apply: ${ok ? "ok" : "FAILED"}: ${message}`);
  return {
    name: "re-apply unchanged",
    ok,
    boundSeconds: 0,
    seconds: (Date.now() - started) / 1000,
    message,
    apply,
    changedOnReapply: changed,
  };
}

async function readyDetectors(ctx: Context, namespace: string): Promise<number> {
  const pods = await ctx.cluster.kubectl.json<{ items: KPod[] }>([
    "get",
    "pods",
    "-n",
    namespace,
    "-l",
    `app.kubernetes.io/name=${components.detector}`,
  ]);
  return pods.items.filter(
    (p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  ).length;
}

/** Samples the ready detectors while `work` runs; returns the lowest count seen. */
async function watchReady(ctx: Context, namespace: string, work: Promise<unknown>): Promise<number> {
  let done = false;
  const finish = () => {
    done = true;
  };
  work.then(finish, finish);
  let min = Infinity;
  while (!done) {
    min = Math.min(min, await readyDetectors(ctx, namespace));
    await sleep(300);
  }
  return min;
}

/** A new image revision: the detector and load generator roll one pod at a time, never below replicas − 1. */
export async function rollingUpdate(ctx: Context): Promise<PhaseResult> {
  const started = Date.now();
  const plan = ctx.plan!;
  const namespace = namespaceOf(plan);
  const manifests = stageManifests(plan, rehearsalOptions(plan, "rehearsal-2"));
  const previous = [...ctx.applied];
  ctx.log(`rolling update to image revision rehearsal-2 (${plan.detector.pods} detectors, ${plan.load.pods} load generators)`);
  let apply: ApplyOutcome[] = [];
  let pruned: Pruned[] = [];
  const rollout = (async () => {
    apply = await applyAll(ctx, manifests);
    pruned = await prune(ctx.cluster.kubectl, manifests, previous);
    return waitAvailable(ctx, manifests, namespace, bounds.rollingUpdate, started);
  })();
  const minReady = await watchReady(ctx, namespace, rollout);
  const result = await rollout;
  ctx.manifests = manifests;
  const floor = plan.detector.pods - 1;
  const ok = result.ok && minReady >= floor;
  const message = !result.ok
    ? result.message
    : minReady < floor
      ? `ready detectors fell to ${minReady} during the rollout; allowed: at least ${floor} (maxUnavailable 1)`
      : `rolled out in ${result.seconds.toFixed(1)} s, at least ${minReady}/${plan.detector.pods} detectors ready throughout`;
  ctx.log(`rolling update: ${ok ? "ok" : "FAILED"}: ${message}`);
  return {
    name: "rolling update",
    ok,
    boundSeconds: bounds.rollingUpdate,
    seconds: result.seconds,
    message,
    apply,
    pruned,
    minReadyDetectors: minReady,
    snapshot: result.snapshot,
    scrape: result.scrape,
  };
}

/** Drains the node with the most detectors through the eviction API (the PDB's one-at-a-time is enforced). */
export async function drain(ctx: Context): Promise<PhaseResult> {
  const started = Date.now();
  const plan = ctx.plan!;
  const namespace = namespaceOf(plan);
  const before = await snapshot(ctx.cluster.kubectl, namespace);
  const node = [...before.nodes].sort((a, b) => (b.byApp[components.detector] ?? 0) - (a.byApp[components.detector] ?? 0))[0]!;
  ctx.log(`drain ${node.name} (${node.byApp[components.detector] ?? 0} detectors on it)`);
  const drained = ctx.cluster.kubectl.run(
    ["drain", node.name, "--ignore-daemonsets", "--delete-emptydir-data", `--timeout=${bounds.drain}s`],
    undefined,
    (bounds.drain + 30) * 1000,
  );
  const minReady = await watchReady(ctx, namespace, drained);
  const r = await drained;
  const after = await waitAvailable(ctx, ctx.manifests!, namespace, bounds.drain, started);
  const leftOn = after.snapshot.nodes.find((n) => n.name === node.name)?.pods ?? 0;
  await ctx.cluster.kubectl.ok(["uncordon", node.name]);
  const floor = plan.detector.pods - 1;
  const ok = r.code === 0 && after.ok && minReady >= floor && leftOn === 0;
  const message =
    r.code !== 0
      ? `kubectl drain failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" ")}`
      : !after.ok
        ? after.message
        : minReady < floor
          ? `ready detectors fell to ${minReady} during the drain; the PDB allows at least ${floor}`
          : leftOn > 0
            ? `${leftOn} of the kit's pods still on ${node.name} after the drain`
            : `drained in ${after.seconds.toFixed(1)} s, at least ${minReady}/${plan.detector.pods} detectors ready throughout`;
  ctx.log(`drain: ${ok ? "ok" : "FAILED"}: ${message}`);
  return {
    name: `drain ${node.name}`,
    ok,
    boundSeconds: bounds.drain,
    seconds: (Date.now() - started) / 1000,
    message,
    minReadyDetectors: minReady,
    snapshot: after.snapshot,
  };
}

/**
 * A zone lost: kwok stops renewing the leases of that zone's nodes, the node lifecycle controller marks them
 * NotReady and taints them, their pods are evicted after the toleration, and the controllers recreate them in
 * the other zones as far as the CPU left there allows; what does not fit stays Pending with the scheduler's reason.
 */
export async function zoneLost(ctx: Context): Promise<PhaseResult> {
  const started = Date.now();
  const plan = ctx.plan!;
  const namespace = namespaceOf(plan);
  const zone = plan.availabilityZones[0]!;
  const lost = plannedNodes(plan)
    .filter((n) => n.zone === zone)
    .map((n) => n.name);
  ctx.log(`zone ${zone} lost: ${lost.length} nodes stop heartbeating`);
  // kwok keeps renewing the leases of nodes it already manages even when their annotation goes, so it is
  // restarted without that zone's nodes.
  await ctx.cluster.restartKwok(`topology.kubernetes.io/zone!=${zone}`);
  const fail = (message: string, snap?: Snapshot): PhaseResult => {
    ctx.log(`zone lost: FAILED: ${message}`);
    return {
      name: `zone ${zone} lost`,
      ok: false,
      boundSeconds: bounds.nodeNotReady + bounds.zoneRescheduled,
      seconds: (Date.now() - started) / 1000,
      message,
      snapshot: snap,
    };
  };
  let s = await snapshot(ctx.cluster.kubectl, namespace);
  while (s.nodes.some((n) => lost.includes(n.name) && n.ready)) {
    if ((Date.now() - started) / 1000 > bounds.nodeNotReady) {
      return fail(
        `nodes still Ready ${bounds.nodeNotReady} s after their heartbeats stopped: ${s.nodes
          .filter((n) => lost.includes(n.name) && n.ready)
          .map((n) => n.name)
          .join(", ")}`,
        s,
      );
    }
    await sleep(1_000);
    s = await snapshot(ctx.cluster.kubectl, namespace);
  }
  const notReadyAfter = (Date.now() - started) / 1000;
  ctx.log(
    `  ${lost.length} nodes NotReady after ${notReadyAfter.toFixed(1)} s; pods evicted after ${compressedTimings.podEvictionTolerationSeconds} s`,
  );
  const wantDetectors = plan.detector.pods;
  const rescheduledBy = Date.now() + bounds.zoneRescheduled * 1000;
  for (;;) {
    s = await snapshot(ctx.cluster.kubectl, namespace);
    const onLost = s.nodes.filter((n) => lost.includes(n.name)).reduce((sum, n) => sum + n.pods, 0);
    const detectorsElsewhere = s.nodes
      .filter((n) => !lost.includes(n.name))
      .reduce((sum, n) => sum + (n.byApp[components.detector] ?? 0), 0);
    const pendingDetectors = s.pending.filter((p) => p.pod.startsWith(`${components.detector}-`)).length;
    // Done when nothing of ours counts as running in the lost zone and every detector is placed or pending.
    if (onLost === 0 && detectorsElsewhere + pendingDetectors >= wantDetectors) {
      const seconds = (Date.now() - started) / 1000;
      const message = `nodes NotReady after ${notReadyAfter.toFixed(1)} s; ${detectorsElsewhere}/${wantDetectors} detectors running in the other zones, ${s.pending.length} pods Pending${s.pending.length ? ` (${[...new Set(s.pending.map((p) => p.reason))].join("; ")})` : ""}`;
      ctx.log(`zone lost: ok: ${message}`);
      return {
        name: `zone ${zone} lost`,
        ok: true,
        boundSeconds: bounds.nodeNotReady + bounds.zoneRescheduled,
        seconds,
        message,
        snapshot: s,
      };
    }
    if (Date.now() > rescheduledBy) {
      return fail(
        `${bounds.zoneRescheduled} s after the zone went NotReady: ${onLost} of the kit's pods still counted there, ${detectorsElsewhere} detectors elsewhere, ${pendingDetectors} pending`,
        s,
      );
    }
    await sleep(2_000);
  }
}
