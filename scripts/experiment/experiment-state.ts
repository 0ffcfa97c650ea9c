/**
 * `state.json` in the experiment folder: what was asked, which stages finished, and what the runner set up
 * (so `--resume <id>` continues after the last finished stage, and teardown knows what is ours).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const stateSchema = z.object({
  schema: z.literal(1),
  id: z.string(),
  target: z.enum(["aws", "local", "local-cluster"]),
  /** The stage numbers in the order they run. */
  stages: z.array(z.number().int().positive()),
  durationSeconds: z.number().positive(),
  warmupSeconds: z.number().nonnegative(),
  rate: z.union([
    z.object({ mode: z.literal("plan") }),
    z.object({ mode: z.literal("fixed"), rate: z.number().positive() }),
    z.object({ mode: z.literal("search") }),
  ]),
  compare: z.string().optional(),
  /** Stage number → its result file name, for each finished stage. */
  finished: z.record(z.string(), z.string()),
  /** The stage running (or that was running when the process stopped). */
  current: z.number().int().positive().nullable(),
  status: z.enum(["running", "finished", "failed", "interrupted"]),
  /** local: the stack servers this experiment started (stopped at teardown). aws: whether stacks may exist. */
  startedStack: z.array(z.string()),
  deployed: z.boolean(),
  tornDown: z.boolean(),
  /** PIDs of every child process the runner started (local), for checking that none is left. */
  processes: z.array(z.object({ name: z.string(), pid: z.number().int() })),
  createdAt: z.string(),
  updatedAt: z.string(),
  error: z.string().optional(),
});
export type ExperimentState = z.infer<typeof stateSchema>;

export const stateFile = (dir: string) => join(dir, "state.json");

export class StateError extends Error {
  override name = "StateError";
}

export function readState(dir: string): ExperimentState {
  const file = stateFile(dir);
  if (!existsSync(file)) throw new StateError(`--resume: no experiment state at ${file}`);
  const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success)
    throw new StateError(`--resume: ${file} is not a state file this runner wrote: ${parsed.error.issues[0]?.message ?? ""}`);
  return parsed.data;
}

/** Written to a temporary file and renamed, so a crash never leaves half a state file. */
export function writeState(dir: string, state: ExperimentState, now: () => Date = () => new Date()): ExperimentState {
  const next = { ...state, updatedAt: now().toISOString() };
  writeFileSync(`${stateFile(dir)}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(`${stateFile(dir)}.tmp`, stateFile(dir));
  return next;
}

/** The stages still to run: those after the last finished one, in order (a failed stage is run again). */
export function remainingStages(state: Pick<ExperimentState, "stages" | "finished">): number[] {
  let lastDone = -1;
  state.stages.forEach((s, i) => {
    if (state.finished[String(s)] !== undefined) lastDone = i;
  });
  return state.stages.slice(lastDone + 1);
}

export const markFinished = (state: ExperimentState, stage: number, file: string): ExperimentState => ({
  ...state,
  finished: { ...state.finished, [String(stage)]: file },
  current: null,
});
