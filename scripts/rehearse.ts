/**
 * `npm run rehearse -- --preset <stage> [--from <stage>]`: a stage's manifests on a real Kubernetes control
 * plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler of the EKS stack's Kubernetes minor) with
 * simulated nodes (kwok) and the real Prometheus Operator, all on loopback; builds the binaries on first use.
 * Scenarios: the stage fresh (or `--from` a smaller stage, then the stage over it), a re-apply of unchanged
 * manifests, a rolling update, a node drain, a zone lost. Writes results/rehearsal/<preset>.json; exit 1 when a
 * scenario fails, 2 on bad arguments.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { presets, type PresetName } from "../cdk/size/size-input.ts";
import { sizePlanFrom } from "../cdk/size/size-plan.ts";
import { allBuilt, cacheRoot, ensureBinaries } from "./rehearsal/build.ts";
import { compressedTimings, startCluster } from "./rehearsal/cluster.ts";
import { eksNodeResources } from "./rehearsal/eks-nodes.ts";
import { stopAll } from "./rehearsal/processes.ts";
import { summaryLines } from "./rehearsal/summary.ts";
import { applyStage, drain, reapply, rollingUpdate, zoneLost, type Context, type PhaseResult } from "./rehearsal/scenarios.ts";
import { etcdVersion, kubernetesRelease, kwokVersion, prometheusOperatorVersion } from "../cdk/versions.ts";

export const scenarioNames = ["rolling-update", "drain", "zone-lost"] as const;
type ScenarioName = (typeof scenarioNames)[number];

export interface RehearseArgs {
  readonly preset: PresetName;
  readonly from?: PresetName;
  readonly scenarios: readonly ScenarioName[];
  readonly out: string;
  readonly keep: boolean;
  /** Skip (exit 0, saying so) when the binaries are not built yet instead of building them. */
  readonly ifBuilt: boolean;
}

class UsageError extends Error {}

/** Wall time of the first build of every binary on a busy 2-core machine, rounded up: how long to warn a user. */
export const firstBuildMinutes = 65;

const presetNames = Object.keys(presets) as PresetName[];

function presetArg(flag: string, value: string): PresetName {
  if (!(presetNames as string[]).includes(value)) {
    throw new UsageError(`${flag}: value ${JSON.stringify(value)} is not allowed; allowed: ${presetNames.join(", ")}`);
  }
  return value as PresetName;
}

export function parseArgs(argv: readonly string[]): RehearseArgs {
  const command = new Command("rehearse")
    .requiredOption("--preset <stage>", `the stage to rehearse: ${presetNames.join(", ")}`)
    .option("--from <stage>", "apply this (smaller) stage first, then --preset over it (growth in place)")
    .option("--scenarios <list>", `after the stage is Available: ${scenarioNames.join(",")} or none`, scenarioNames.join(","))
    .option("--out <dir>", "where <preset>.json goes", "results/rehearsal")
    .option("--keep", "keep the cluster's temp folder (logs, etcd data) after the run")
    .option("--if-built", "only rehearse when the binaries are already built here (CI on a fresh machine skips the long build)")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: (t) => process.stderr.write(t) });
  try {
    command.parse([...argv], { from: "user" });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "commander.helpDisplayed") throw Object.assign(new UsageError(""), { help: true });
    throw new UsageError((e as Error).message);
  }
  const o = command.opts<{ preset: string; from?: string; scenarios: string; out: string; keep?: boolean; ifBuilt?: boolean }>();
  const preset = presetArg("--preset", o.preset);
  const from = o.from === undefined ? undefined : presetArg("--from", o.from);
  if (from !== undefined) {
    const [a, b] = [sizePlanFrom({ preset: from }), sizePlanFrom({ preset })];
    if (a.cassandra.nodes >= b.cassandra.nodes) {
      throw new UsageError(
        `--from: value ${JSON.stringify(from)} is not allowed with --preset ${preset}; allowed: a smaller stage than ${preset} (growth)`,
      );
    }
  }
  const scenarios = o.scenarios === "none" ? [] : o.scenarios.split(",").filter(Boolean);
  for (const s of scenarios) {
    if (!(scenarioNames as readonly string[]).includes(s)) {
      throw new UsageError(
        `--scenarios: value ${JSON.stringify(s)} is not allowed; allowed: ${scenarioNames.join(", ")} (comma-separated) or none`,
      );
    }
  }
  return { preset, from, scenarios: scenarios as ScenarioName[], out: o.out, keep: o.keep === true, ifBuilt: o.ifBuilt === true };
}

export async function rehearse(args: RehearseArgs): Promise<boolean> {
  const t0 = Date.now();
  const log = (line: string) => console.log(`[rehearse ${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${line}`);
  log(`Kubernetes ${kubernetesRelease}, etcd ${etcdVersion}, kwok ${kwokVersion}, Prometheus Operator ${prometheusOperatorVersion}`);
  const builds = await ensureBinaries(log);
  for (const b of builds) log(`${b.component} ${b.version}: ${b.reused ? "reused from the cache" : `built in ${b.seconds} s`}`);
  const dir = mkdtempSync(join(tmpdir(), "anomaly-kit-rehearsal-"));
  const phases: PhaseResult[] = [];
  let controlPlaneReadySeconds = 0;
  let error: string | undefined;
  try {
    const cluster = await startCluster(dir, log);
    controlPlaneReadySeconds = cluster.controlPlaneReadySeconds;
    const ctx: Context = { cluster, log, applied: [] };
    phases.push(await applyStage(ctx, args.from ?? args.preset, "fresh"));
    if (args.from !== undefined && phases.at(-1)!.ok) phases.push(await applyStage(ctx, args.preset, "growth"));
    if (phases.every((p) => p.ok)) phases.push(await reapply(ctx));
    const run: Record<ScenarioName, () => Promise<PhaseResult>> = {
      "rolling-update": () => rollingUpdate(ctx),
      drain: () => drain(ctx),
      "zone-lost": () => zoneLost(ctx),
    };
    // zone-lost last: it leaves a third of the nodes NotReady.
    for (const name of scenarioNames.filter((s) => args.scenarios.includes(s))) {
      if (!phases.every((p) => p.ok)) break;
      phases.push(await run[name]());
    }
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    log(`error: ${(e as Error).message}`);
  } finally {
    await stopAll();
  }
  const passed = error === undefined && phases.length > 0 && phases.every((p) => p.ok);
  const plan = sizePlanFrom({ preset: args.preset });
  const result = {
    preset: args.preset,
    from: args.from ?? null,
    passed,
    error: error ?? null,
    measuredAt: new Date().toISOString(),
    versions: { kubernetes: kubernetesRelease, etcd: etcdVersion, kwok: kwokVersion, prometheusOperator: prometheusOperatorVersion },
    builds,
    controlPlaneReadySeconds,
    timeToAvailableSeconds: phases[0]?.seconds ?? null,
    totalSeconds: (Date.now() - t0) / 1000,
    compressedTimings,
    nodes: {
      count: plan.eks.workerNodes,
      instanceType: plan.eks.instanceType,
      zones: plan.availabilityZones,
      ...eksNodeResources(plan.eks.instanceType),
    },
    phases,
  };
  mkdirSync(args.out, { recursive: true });
  const file = resolve(args.out, `${args.preset}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  for (const line of summaryLines(result)) console.log(line);
  console.log(`results: ${file}`);
  if (passed && !args.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`cluster folder kept (logs, etcd data): ${dir}`);
  return passed;
}

export async function main(argv: readonly string[]): Promise<void> {
  let args: RehearseArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if ((e as { help?: boolean }).help) return;
    if (!(e instanceof UsageError)) throw e;
    if (e.message) console.error(e.message.startsWith("error") ? e.message : `error: ${e.message}`);
    process.exitCode = 2;
    return;
  }
  if (args.ifBuilt && !allBuilt()) {
    console.log(
      `rehearsal of ${args.preset} skipped: its binaries are not built on this machine (${cacheRoot()}); the first build took ` +
        `${firstBuildMinutes} min on 2 busy cores, more than a fresh CI run can spend. Run npm run rehearse -- --preset ${args.preset} once to build them.`,
    );
    return;
  }
  process.exitCode = (await rehearse(args)) ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
