/** Runs the real `npm run experiment` entry point as a child process and collects its output and exit code. */
import { runCli, type CliRun } from "../../stall-bounded.ts";

export const runExperimentCli = (args: readonly string[]): Promise<CliRun> => runCli("experiment.ts", args);
