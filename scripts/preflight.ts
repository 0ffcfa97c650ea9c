/**
 * npm run preflight -- <stages or preset> [--region r] [--availability-zones a,b,c] [--json]
 * Checks the AWS account against the experiment's largest stage; exits 1 when any check fails and says
 * which quota or setting to change. Uses the default credential chain (AWS_PROFILE, env, SSO, …).
 */
import { Command } from "commander";
import { SizeInputError } from "../cdk/size/size-input.ts";
import { addStageOptions, stagesFromOptions, type StageOptions } from "./cost/stage-options.ts";
import { failed } from "./aws/check-result.ts";
import { preflightReport } from "./aws/preflight-report.ts";
import { preflightNeeds, runPreflight } from "./aws/preflight-checks.ts";

interface PreflightCliOptions extends StageOptions {
  bootstrapQualifier: string;
  json?: boolean;
}

const program = addStageOptions(
  new Command("preflight")
    .description("Check credentials, CDK bootstrap, quotas and instance-type offerings for an experiment (AWS read-only calls)")
    .argument("<stages>", "a preset (stage-3 … stage-48) or Cassandra node counts, e.g. 3,6,12,24,48")
    .option("--bootstrap-qualifier <q>", "CDK bootstrap qualifier", "hnb659fds")
    .option("--json", "print the results as JSON"),
).action(async (spec: string, options: PreflightCliOptions) => {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const stages = stagesFromOptions(spec, { ...options, region });
  const needs = preflightNeeds(stages);
  if (!options.json) {
    process.stdout.write(
      `preflight for ${stages.map((s) => s.name).join(", ")} in ${needs.region} (${needs.zones.join(", ")}): ` +
        `largest needs ${needs.vcpus.needed} on-demand standard vCPUs (${needs.vcpus.stage}) and ${needs.brokers.needed} MSK brokers (${needs.brokers.stage})\n\n`,
    );
  }
  const results = await runPreflight({ region: needs.region }, stages, { bootstrapQualifier: options.bootstrapQualifier });
  process.stdout.write(options.json ? `${JSON.stringify({ needs, results }, null, 2)}\n` : `${preflightReport(results)}\n`);
  process.exitCode = failed(results).length === 0 ? 0 : 1;
});

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof SizeInputError) {
    process.stderr.write(`preflight: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
