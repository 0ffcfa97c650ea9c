/**
 * npm run sweep -- --experiment <id> [--delete] [--region r] [--timeout-minutes m] [--json]
 * Lists everything tagged anomaly-kit:experiment=<id> (the CDK app's experimentTagKey) (and what is left inside its VPCs); with --delete, deletes it
 * in dependency order, retrying what is blocked with backoff. Exits 1 while anything remains, 2 on bad input.
 */
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { runCommand, usageErrorExitCode } from "../app/cli-exit.ts";
import { awsRegionAllowed, partitionOfRegion } from "../app/aws-regions.ts";
import { errorMessage, errorName } from "./aws/aws-context.ts";
import { sweepExperiment, type SweepReport } from "./aws/deletion-order.ts";
import { sweepReport } from "./aws/sweep-report.ts";
import { plainNumberOption } from "./cli-number.ts";

/** Exit status for bad input, and for not knowing what is left (distinct from 1: something remains). */

interface SweepCliOptions {
  experiment: string;
  delete?: boolean;
  region?: string;
  extraRegions?: string;
  timeoutMinutes: number;
  json?: boolean;
}

/** A bad flag value, found before any AWS call. */
export class SweepUsageError extends Error {
  override name = "SweepUsageError";
}

/** A week at most: a sweep that has not finished by then is waiting for something a person must fix. */
const minutes = plainNumberOption("--timeout-minutes", { min: 0, aboveMin: true, max: 7 * 24 * 60 });

/** The flags checked before any AWS call (throws SweepUsageError naming the flag). */
export function checkSweepOptions(
  options: SweepCliOptions,
  env: Readonly<Record<string, string | undefined>>,
): { region: string; origin: string } {
  if (!/^[a-z][a-z0-9-]{0,23}$/.test(options.experiment)) {
    throw new SweepUsageError(
      `--experiment ${JSON.stringify(options.experiment)}: allowed: 1-24 lower-case letters, digits or '-', starting with a letter`,
    );
  }
  const [region, origin] =
    options.region !== undefined
      ? [options.region, "--region"]
      : env.AWS_REGION !== undefined
        ? [env.AWS_REGION, "env AWS_REGION"]
        : env.AWS_DEFAULT_REGION !== undefined
          ? [env.AWS_DEFAULT_REGION, "env AWS_DEFAULT_REGION"]
          : ["us-east-1", "default"];
  const extra = (options.extraRegions ?? "").split(",").filter((r) => r !== "");
  if (partitionOfRegion(region, extra) === undefined) {
    throw new SweepUsageError(`${origin} ${JSON.stringify(region)}: allowed: ${awsRegionAllowed("--extra-regions")}`);
  }
  return { region, origin };
}

/** The command; errors are thrown, never an exit, so a test can run its checks in-process. */
export function sweepCommand(): Command {
  return new Command("sweep")
    .description("Find (and with --delete, delete) every AWS resource of an experiment; exits 1 while anything remains")
    .requiredOption("--experiment <id>", "the experiment id (the value of the anomaly-kit:experiment tag)")
    .option("--delete", "delete what is found, in dependency order")
    .option("--region <region>", "AWS region (default: AWS_REGION, else us-east-1)")
    .option("--extra-regions <list>", "regions to accept besides the kit's known list (app/aws-regions.ts), for a region newer than it")
    .option("--timeout-minutes <m>", "with --delete: give up after this long", minutes, 60)
    .option("--json", "print the findings as JSON")
    .exitOverride()
    .showSuggestionAfterError(true)
    .action(async (options: SweepCliOptions) => {
      const { region } = checkSweepOptions(options, process.env);
      const deleting = options.delete === true;
      if (!options.json)
        process.stdout.write(`sweep: experiment ${options.experiment} in ${region}${deleting ? ", deleting" : " (list only)"}\n`);
      let report: SweepReport;
      try {
        report = await sweepExperiment({ region }, options.experiment, {
          delete: deleting,
          timeoutMs: options.timeoutMinutes * 60_000,
          log: options.json ? undefined : (line) => process.stdout.write(`${line}\n`),
        });
      } catch (error) {
        // Not knowing what is left is not "nothing left": exit 2, distinct from 1 (something remains).
        process.stderr.write(
          `sweep: could not list the experiment's resources in ${region}: ${errorName(error)}: ${errorMessage(error)}\n`,
        );
        process.exitCode = usageErrorExitCode;
        return;
      }
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${sweepReport(report, deleting)}\n`);
      process.exitCode = report.remaining.length === 0 ? 0 : 1;
    });
}

export const main = (argv: readonly string[]): Promise<void> => runCommand("sweep", sweepCommand(), argv, SweepUsageError);

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
