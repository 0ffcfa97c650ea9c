/**
 * The experiment loop, target-independent: for each remaining stage, prepare (deploy / grow, wait ready),
 * run the load (the plan's rate, a fixed rate, or a search for the highest rate with p99 under the bound),
 * write the stage's result and the summary, and keep the state file current. On failure, interruption or the
 * end it tears down unless `keep`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { searchMaxRate } from "../bench/rate-search.ts";
import { projectRoot } from "../local/locations.ts";
import { markFinished, readState, remainingStages, stateFile, writeState, type ExperimentState } from "./experiment-state.ts";
import type { Progress } from "./progress.ts";
import { experimentDir, writeStageResult, writeSummary, type SummaryFiles } from "./results-writer.ts";
import { configHash, passes, perCore, type RateTrial, type StageResult, type Target } from "./stage-result.ts";
import { AbortedError, refusedBeforeChange, type StageRunner, type TrialOutcome } from "./stage-runner.ts";

export type RateMode = ExperimentState["rate"];

export interface ExperimentOptions {
  readonly id: string;
  readonly target: Target;
  readonly stages: readonly number[];
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rate: RateMode;
  readonly keep: boolean;
  /** Continue the experiment `id` from its state file (its stages, duration, rate and target win). */
  readonly resume: boolean;
  readonly compare?: string | undefined;
  readonly resultsRoot: string;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  readonly makeRunner: (state: ExperimentState, dir: string, update: (f: (s: ExperimentState) => ExperimentState) => void) => StageRunner;
}

export interface ExperimentOutcome {
  readonly dir: string;
  readonly state: ExperimentState;
  readonly summary: SummaryFiles | undefined;
}

export class ExperimentError extends Error {
  override name = "ExperimentError";
}

/** The experiment's arguments cannot work (an id in use, a --compare that does not exist): exit 2, nothing written. */
export class ExperimentArgumentError extends ExperimentError {
  override name = "ExperimentArgumentError";
}

/** The default warm-up: a third of the measured time, from 5 to 60 s. */
export const defaultWarmupSeconds = (durationSeconds: number): number => Math.min(60, Math.max(5, Math.round(durationSeconds / 3)));

/** A search trial passes when p99 stays under the bound and the detector keeps up with the load. */
export const trialPassed = (t: TrialOutcome): boolean =>
  passes(t.metrics) && (t.metrics.sentPerSecond === 0 || t.metrics.checksPerSecond >= 0.95 * t.metrics.sentPerSecond);

export function gitRevision(cwd = projectRoot): { revision: string; dirty: boolean } {
  try {
    const revision = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, encoding: "utf8" }).trim() !== "";
    return { revision, dirty };
  } catch {
    return { revision: "unknown", dirty: false };
  }
}

export function newState(
  o: Omit<ExperimentOptions, "progress" | "signal" | "makeRunner" | "resultsRoot" | "resume" | "keep">,
  now = new Date(),
): ExperimentState {
  return {
    schema: 1,
    id: o.id,
    target: o.target,
    stages: [...o.stages],
    durationSeconds: o.durationSeconds,
    warmupSeconds: o.warmupSeconds,
    rate: o.rate,
    ...(o.compare === undefined ? {} : { compare: o.compare }),
    finished: {},
    current: null,
    status: "running",
    startedStack: [],
    deployed: false,
    tornDown: false,
    processes: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentOutcome> {
  const dir = experimentDir(o.resultsRoot, o.id);
  let state: ExperimentState;
  if (o.resume) {
    state = readState(dir);
    if (state.target !== o.target)
      throw new ExperimentArgumentError(`--resume ${o.id}: that experiment's target is ${state.target}, not ${o.target}`);
    state = { ...state, status: "running", tornDown: false, ...(o.compare === undefined ? {} : { compare: o.compare }) };
  } else {
    if (existsSync(stateFile(dir))) {
      throw new ExperimentArgumentError(
        `--id ${o.id}: experiment ${o.id} already exists in ${dir}; continue it with --resume ${o.id} or choose another id`,
      );
    }
    state = newState(o);
  }
  // Everything is checked before anything is written: a refused run leaves no state file to block its rerun.
  const compareDir = state.compare === undefined ? undefined : { id: state.compare, dir: experimentDir(o.resultsRoot, state.compare) };
  if (compareDir !== undefined && !existsSync(compareDir.dir))
    throw new ExperimentArgumentError(`--compare ${state.compare}: no experiment folder ${compareDir.dir}`);
  const update = (f: (s: ExperimentState) => ExperimentState) => {
    state = writeState(dir, f(state));
  };
  const runner = o.makeRunner(state, dir, update);
  // Every stage is validated before anything is deployed.
  for (const s of state.stages) runner.describe(s);
  mkdirSync(dir, { recursive: true });
  state = writeState(dir, state);

  const todo = remainingStages(state);
  const pending = () => state.stages.filter((s) => state.finished[String(s)] === undefined).map((s) => `stage-${s}`);
  let summary: SummaryFiles | undefined;
  let failure: Error | undefined;
  try {
    for (const stage of todo) {
      const d = runner.describe(stage);
      const position: [number, number] = [state.stages.indexOf(stage) + 1, state.stages.length];
      update((s) => ({ ...s, current: stage }));
      const startedAt = new Date();
      o.progress.update({ stage: d.name, position, phase: "prepare" });
      await runner.prepare(stage, o.progress, o.signal);
      update((s) => ({ ...s, deployed: true }));
      const window = { warmupSeconds: state.warmupSeconds, durationSeconds: state.durationSeconds };

      const trials: (TrialOutcome & { rate: number; passed: boolean })[] = [];
      const run = async (rate: number) => {
        const t = await runner.runTrial(stage, rate, window, o.progress, o.signal);
        const trial = { ...t, rate, passed: trialPassed(t) };
        trials.push(trial);
        o.progress.log(
          `${d.name}: ${rate} events/s → ${t.metrics.checksPerSecond.toFixed(1)} checks/s, p99 ${t.metrics.latencyMs.p99 ?? "–"} ms${state.rate.mode === "search" ? (trial.passed ? " (pass)" : " (fail)") : ""}`,
        );
        return trial;
      };
      let chosen: (typeof trials)[number];
      if (state.rate.mode === "search") {
        const found = await searchMaxRate({ startRate: d.planRate, maxRate: d.maxRate, resolution: 0.25, maxTrials: 4, run });
        chosen = found.best ?? trials.reduce((a, b) => (b.metrics.checksPerSecond > a.metrics.checksPerSecond ? b : a));
      } else {
        chosen = await run(state.rate.mode === "fixed" ? state.rate.rate : d.planRate);
      }

      if (chosen.partitions.readBack !== null && chosen.partitions.readBack !== d.sizes.partitions) {
        o.progress.log(
          `${d.name}: the events topic has ${chosen.partitions.readBack} partitions (${chosen.partitions.source}), the plan ${d.sizes.partitions}`,
        );
      }
      const balanceProblems = chosen.partitions.leaderBalance?.problems ?? [];
      for (const problem of balanceProblems) o.progress.log(`${d.name}: fails the leader balance check: ${problem}`);
      const config = { ...d.config, rateMode: state.rate.mode, durationSeconds: state.durationSeconds, warmupSeconds: state.warmupSeconds };
      const hours = (Date.now() - startedAt.getTime()) / 3_600_000;
      const result: StageResult = {
        schema: 1,
        experimentId: state.id,
        target: runner.target,
        stage: { name: d.name, index: position[0], size: d.size, sizeUnit: d.sizeUnit },
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        git: gitRevision(),
        config,
        configHash: configHash(config),
        sizes: { ...d.sizes, partitions: chosen.partitions.readBack ?? d.sizes.partitions },
        partitions: { planned: d.sizes.partitions, ...chosen.partitions },
        cores: d.cores,
        rate: {
          mode: state.rate.mode,
          target: chosen.rate,
          trials: trials.map((t): RateTrial => ({
            rate: t.rate,
            passed: t.passed,
            checksPerSecond: Math.round(t.metrics.checksPerSecond * 10) / 10,
            p99Ms: t.metrics.latencyMs.p99,
          })),
        },
        window: { warmupSeconds: state.warmupSeconds, seconds: chosen.seconds, endedAt: chosen.endedAt.toISOString() },
        metrics: chosen.metrics,
        checksPerSecondPerCore: perCore(chosen.metrics.checksPerSecond, d.cores.total),
        passed: passes(chosen.metrics) && balanceProblems.length === 0,
        cost: d.cost(hours),
      };
      const file = writeStageResult(dir, stage, result);
      update((s) => markFinished(s, stage, file));
      o.progress.phase("write-results");
      summary = await writeSummary(dir, state.id, { pending: pending(), compare: compareDir });
    }
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  }

  const interrupted = failure instanceof AbortedError || o.signal.aborted;
  if (failure !== undefined) o.progress.log(`${interrupted ? "interrupted" : "failed"}: ${failure.message}`);
  // A stage refused before it changed anything leaves the experiment as it was: a teardown would destroy
  // what the refusal protects.
  const refused = refusedBeforeChange(failure);
  if (!o.keep && !refused) {
    o.progress.phase("teardown");
    try {
      await runner.teardown(o.progress);
      update((s) => ({ ...s, tornDown: true, deployed: false, startedStack: [] }));
    } catch (err) {
      o.progress.log(`teardown failed: ${err instanceof Error ? err.message : String(err)}`);
      failure ??= err instanceof Error ? err : new Error(String(err));
    }
  } else {
    o.progress.log(
      `${refused ? "refused before any change" : "--keep"}: leaving everything running; tear down later with a run without --keep or --resume ${state.id}`,
    );
  }
  summary = await writeSummary(dir, state.id, { pending: pending(), compare: compareDir });
  update((s) => ({
    ...s,
    status: failure === undefined ? "finished" : interrupted ? "interrupted" : "failed",
    ...(failure === undefined ? {} : { error: failure.message }),
  }));
  o.progress.done();
  if (failure !== undefined) throw failure;
  return { dir, state, summary };
}

export const workDirOf = (dir: string): string => join(dir, "work");
