/**
 * npm run sweep -- --experiment <id> [--delete] [--region r] [--timeout-minutes m] [--json]
 * Lists everything tagged anomaly-kit:experiment=<id> (the CDK app's experimentTagKey) (and what is left inside its VPCs); with --delete, deletes it
 * in dependency order, retrying what is blocked with backoff. Exits 1 while anything remains.
 */
import { Command } from "commander";
import { errorMessage, errorName } from "./aws/aws-context.ts";
import { sweepExperiment, type SweepReport } from "./aws/deletion-order.ts";
import { sweepReport } from "./aws/sweep-report.ts";
import { plainNumberOption } from "./cli-number.ts";

interface SweepCliOptions {
  experiment: string;
  delete?: boolean;
  region?: string;
  timeoutMinutes: number;
  json?: boolean;
}

/** A week at most: a sweep that has not finished by then is waiting for something a person must fix. */
const minutes = plainNumberOption("--timeout-minutes", { min: 0, aboveMin: true, max: 7 * 24 * 60 });

await new Command("sweep")
  .description("Find (and with --delete, delete) every AWS resource of an experiment; exits 1 while anything remains")
  .requiredOption("--experiment <id>", "the experiment id (the value of the anomaly-kit:experiment tag)")
  .option("--delete", "delete what is found, in dependency order")
  .option("--region <region>", "AWS region (default: AWS_REGION, else us-east-1)")
  .option("--timeout-minutes <m>", "with --delete: give up after this long", minutes, 60)
  .option("--json", "print the findings as JSON")
  .action(async (options: SweepCliOptions) => {
    if (!/^[a-z][a-z0-9-]{0,23}$/.test(options.experiment)) {
      process.stderr.write(`sweep: --experiment ${JSON.stringify(options.experiment)}: allowed: 1-24 lower-case letters, digits or '-', starting with a letter\n`);
      process.exit(2);
    }
    const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1";
    const deleting = options.delete === true;
    if (!options.json) process.stdout.write(`sweep: experiment ${options.experiment} in ${region}${deleting ? ", deleting" : " (list only)"}\n`);
    let report: SweepReport;
    try {
      report = await sweepExperiment({ region }, options.experiment, {
        delete: deleting,
        timeoutMs: options.timeoutMinutes * 60_000,
        log: options.json ? undefined : (line) => process.stdout.write(`${line}\n`),
      });
    } catch (error) {
      // Not knowing what is left is not "nothing left": exit 2, distinct from 1 (something remains).
      process.stderr.write(`sweep: could not list the experiment's resources in ${region}: ${errorName(error)}: ${errorMessage(error)}\n`);
      process.exit(2);
    }
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${sweepReport(report, deleting)}\n`);
    process.exitCode = report.remaining.length === 0 ? 0 : 1;
  })
  .parseAsync();
