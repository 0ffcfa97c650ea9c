/**
 * npm run plan -- <stages or preset> [--hours-per-stage h] [--json] …
 * Each stage's resources and hourly cost, and the experiment's estimated total; no AWS access.
 * Exit status 2 on bad input (a flag, a value, a stage), with one line naming it.
 */
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { runCommand } from "../app/cli-exit.ts";
import { availabilityZoneCount, limits, SizeInputError } from "../cdk/size/size-input.ts";
import { plainNumberOption } from "./cli-number.ts";
import { planExperiment } from "./cost/experiment-plan.ts";
import { planReport } from "./cost/plan-report.ts";
import { addStageOptions, stagesFromOptions, type StageOptions } from "./cost/stage-options.ts";

/** Exit status for bad input; nothing is printed on stdout then. */

/** At most a year per stage: an estimate beyond it is a typo, not a plan. */
const hoursInAYear = 8760;
const hours = { min: 0, max: hoursInAYear } as const;

interface PlanOptions extends StageOptions {
  hoursPerStage: number;
  overheadHours: number;
  mskStorageGib?: number;
  natGateways?: number;
  json?: boolean;
}

/** The command; errors are thrown (CommanderError, SizeInputError), never an exit, so a test can run it in-process. */
export function planCommand(write: (text: string) => void = (text) => process.stdout.write(text)): Command {
  return addStageOptions(
    new Command("plan")
      .description("Resources and estimated cost of each stage of an experiment (offline price list; no AWS access)")
      .argument("<stages>", "a preset (stage-3 … stage-48) or Cassandra node counts, e.g. 3,6,12,24,48")
      .option(
        "--hours-per-stage <h>",
        "run time of each stage, hours",
        plainNumberOption("--hours-per-stage", { ...hours, aboveMin: true }),
        0.5,
      )
      .option(
        "--overhead-hours <h>",
        "hours billed per stage beyond the run (deploy, warm-up, teardown)",
        plainNumberOption("--overhead-hours", hours),
        0,
      )
      .option(
        "--msk-storage-gib <n>",
        "EBS storage per MSK broker for every stage, GiB: the size key kafkaStorageGiB (default: the most any stage needs)",
        plainNumberOption("--msk-storage-gib", { ...limits.kafkaStorageGiB, integer: true }),
      )
      .option(
        "--nat-gateways <n>",
        "NAT gateways in the VPC (default: 1, as the network stack builds)",
        plainNumberOption("--nat-gateways", { min: 0, max: availabilityZoneCount, integer: true }),
      )
      .option("--json", "print the plan as JSON"),
  )
    .exitOverride()
    .showSuggestionAfterError(true)
    .action((spec: string, options: PlanOptions) => {
      // The storage goes through the size model (kafkaStorageGiB), which refuses less than a stage needs.
      const plan = planExperiment(stagesFromOptions(spec, { ...options, kafkaStorageGiB: options.mskStorageGib }), {
        hoursPerStage: options.hoursPerStage,
        overheadHoursPerStage: options.overheadHours,
        natGateways: options.natGateways,
      });
      write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : `${planReport(plan)}\n`);
    });
}

export const main = (argv: readonly string[]): Promise<void> => runCommand("plan", planCommand(), argv, SizeInputError);

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
