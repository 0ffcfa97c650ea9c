/**
 * npm run experiment -- --stages 3,6,12,24,48 --duration <seconds per stage> --target aws|local|local-cluster
 *                       [--rate N | --search] [--warmup s] [--keep] [--resume <id>] [--compare <id>] [--id <id>]
 *                       [--cluster-admin-arn <arn>] [--api-access-cidrs <cidrs>] [--replace-cassandra-nodes]
 *
 * Runs a staged experiment and writes results/experiments/<id>/ (stage JSONs, results.csv, charts, report.md).
 * aws: cdk deploy per stage (grown in place; -c clusterAdminArn from the caller's identity unless given), readiness via EKS/MSK/Kubernetes/Prometheus, teardown with
 * cdk destroy + sweep. local: stage k = k detector processes against the local stack (local-stage-size.ts).
 * local-cluster: stage n = n brokers and n Cassandra nodes of the local cluster, grown between stages.
 * Exit codes: 0 done, 1 failed, 2 bad arguments, 130 interrupted.
 */
import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SizeInputError } from "../cdk/size/size-input.ts";
import { CassandraUserDataChangeError, replaceCassandraNodesFlag } from "./aws/cassandra-user-data-guard.ts";
import { StateError } from "./experiment/experiment-state.ts";
import { Progress } from "./experiment/progress.ts";
import {
  defaultWarmupSeconds,
  ExperimentArgumentError,
  ExperimentError,
  runExperiment,
  workDirOf,
  type RateMode,
} from "./experiment/run-experiment.ts";
import { AwsStageRunner } from "./experiment/stage-runner-aws.ts";
import { LocalStageRunner } from "./experiment/stage-runner-local.ts";
import { parseStageList } from "./experiment/stage-list.ts";
import type { Target } from "./experiment/stage-result.ts";
import { projectRoot } from "./local/locations.ts";

const idPattern = /^[a-z][a-z0-9-]{0,23}$/;

const positive =
  (flag: string, allowed: string, integer = false) =>
  (value: string) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${flag} ${JSON.stringify(value)}: allowed: ${allowed}`);
    }
    return n;
  };

const experimentId = (flag: string) => (value: string) => {
  if (!idPattern.test(value)) {
    throw new InvalidArgumentError(
      `${flag} ${JSON.stringify(value)}: allowed: 1-24 lower-case letters, digits or '-', starting with a letter (it becomes the stacks' names and the anomaly-kit:experiment tag)`,
    );
  }
  return value;
};

const defaultId = (now = new Date()) =>
  `e${now
    .toISOString()
    .replace(/[-:T]/g, "")
    .slice(0, 14)
    .replace(/^(\d{8})/, "$1-")}`;

interface CliOptions {
  stages?: string;
  duration?: number;
  target: Target;
  rate?: number;
  search?: boolean;
  warmup?: number;
  keep?: boolean;
  resume?: string;
  compare?: string;
  id?: string;
  resultsDir: string;
  region: string;
  clusterAdminArn?: string;
  apiAccessCidrs?: string;
  fromInsideVpc?: boolean;
  replaceCassandraNodes?: boolean;
}

const program = new Command("experiment")
  .description("Run a staged experiment (deploy or grow, wait ready, warm up, load, read Prometheus, write results, tear down)")
  .addOption(new Option("--target <target>", "where the stages run").choices(["aws", "local", "local-cluster"]).makeOptionMandatory())
  .option(
    "--stages <list>",
    "aws: Cassandra node counts or presets (3..48), e.g. 3,6,12,24,48; local: detector processes, e.g. 1,2; local-cluster: brokers and Cassandra nodes of the local cluster, growing (3..6), e.g. 3,6",
  )
  .option("--duration <seconds>", "measured seconds per stage (after the warm-up)", positive("--duration", "a number of seconds > 0"))
  .option("--warmup <seconds>", "warm-up seconds before each measurement (default: a third of --duration, 5..60)", (v) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`--warmup ${JSON.stringify(v)}: allowed: a number of seconds >= 0`);
    return n;
  })
  .addOption(
    new Option("--rate <events-per-second>", "a fixed load rate for every stage (default: the size plan's rate)")
      .argParser(positive("--rate", "a number of events per second > 0"))
      .conflicts("search"),
  )
  .addOption(new Option("--search", "search each stage for the highest rate with p99 < 1 s").conflicts("rate"))
  .option("--keep", "do not tear down at the end, on failure or on Ctrl-C")
  .addOption(
    new Option("--resume <id>", "continue an interrupted experiment after its last finished stage")
      .argParser(experimentId("--resume"))
      .conflicts("id"),
  )
  .option("--compare <id>", "compare with an earlier experiment in the report", experimentId("--compare"))
  .option("--id <id>", "experiment id (default: e<date>-<time>); also the CDK experimentId and the resources' tag", experimentId("--id"))
  .option("--results-dir <dir>", "results root", join(projectRoot, "results", "experiments"))
  .option("--region <region>", "aws: region (size model default)", "us-east-1")
  .option(
    "--cluster-admin-arn <arn>",
    "aws: the IAM role or user given cluster admin on EKS (default: the caller's, from STS; an assumed role → its role ARN)",
  )
  .option(
    "--api-access-cidrs <cidrs>",
    "aws: public CIDRs allowed to reach the EKS API endpoint, e.g. your address/32 (default: private endpoint only)",
  )
  .option(
    "--from-inside-vpc",
    "aws: this machine reaches the private EKS endpoint (a bastion or VPN into the VPC), so no public endpoint is needed",
  )
  .option(
    replaceCassandraNodesFlag,
    "aws: deploy even when the code changes running Cassandra nodes' user data or instance type (CloudFormation stops and starts them: their instance store is emptied and Cassandra stays down on them); refused otherwise",
  );

async function main(): Promise<number> {
  // Commander prints its own message ("unknown option '--stage'" with "(Did you mean --stages?)"); exitOverride
  // turns its exit into an error so that bad arguments exit 2 as documented, not commander's 1.
  program.exitOverride().showSuggestionAfterError(true);
  program.parse();
  const o = program.opts<CliOptions>();
  const resume = o.resume !== undefined;
  const id = o.resume ?? o.id ?? defaultId();
  if (!resume && o.stages === undefined) throw new InvalidArgumentError("--stages is required (unless --resume <id>)");
  if (!resume && o.duration === undefined) throw new InvalidArgumentError("--duration is required (unless --resume <id>)");
  // Without a public CIDR the EKS endpoint is private: a runner outside the VPC would deploy for an hour and then
  // fail to reach the cluster, so say so before anything is deployed.
  if (o.target === "aws" && o.apiAccessCidrs === undefined && o.fromInsideVpc !== true) {
    throw new InvalidArgumentError(
      "--target aws needs --api-access-cidrs <your public address>/32 (otherwise the EKS API endpoint is private and this machine cannot reach it), or --from-inside-vpc when it runs inside the VPC",
    );
  }
  const stages = o.stages === undefined ? [] : parseStageList(o.stages, o.target, id);
  const duration = o.duration ?? 1;
  const rate: RateMode = o.search === true ? { mode: "search" } : o.rate !== undefined ? { mode: "fixed", rate: o.rate } : { mode: "plan" };

  const controller = new AbortController();
  const progress = new Progress(process.stderr);
  let firstSignalAt: number | undefined;
  const onSignal = (name: string) => {
    // npm and the shell wrappers may pass one Ctrl-C on more than once: only a second one a second later counts.
    if (firstSignalAt !== undefined && Date.now() - firstSignalAt < 1_000) return;
    if (firstSignalAt !== undefined) {
      process.stderr.write(`\n${name} again: exiting without finishing the teardown (run again with --resume ${id} to tear down)\n`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    progress.log(`${name}: stopping; tearing down${o.keep === true ? " is skipped (--keep)" : ""} (press Ctrl-C again to exit at once)`);
    controller.abort();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));

  const outcome = await runExperiment({
    id,
    target: o.target,
    stages,
    durationSeconds: duration,
    warmupSeconds: o.warmup ?? defaultWarmupSeconds(duration),
    rate,
    keep: o.keep === true,
    resume,
    compare: o.compare,
    resultsRoot: o.resultsDir,
    progress,
    signal: controller.signal,
    makeRunner: (state, dir, update) =>
      state.target !== "aws"
        ? new LocalStageRunner({
            experimentId: state.id,
            cluster: state.target === "local-cluster",
            workDir: workDirOf(dir),
            keep: o.keep === true,
            startedStack: state.startedStack,
            onStackStarted: (names) => update((s) => ({ ...s, startedStack: [...names] })),
            onProcess: (name, pid) => update((s) => ({ ...s, processes: [...s.processes, { name, pid }] })),
          })
        : new AwsStageRunner({
            experimentId: state.id,
            workDir: workDirOf(dir),
            region: o.region,
            keep: o.keep === true,
            clusterAdminArn: o.clusterAdminArn,
            apiAccessCidrs: o.apiAccessCidrs?.split(","),
            replaceCassandraNodes: o.replaceCassandraNodes === true,
          }),
  }).catch((err: unknown) => {
    if (controller.signal.aborted) return null;
    throw err;
  });
  if (outcome === null) return 130;
  process.stdout.write(`results: ${outcome.dir}\n`);
  if (outcome.summary !== undefined) process.stdout.write(`report: ${outcome.summary.report}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof CommanderError && !(err instanceof InvalidArgumentError)) {
      // Already printed by commander; --help and --version are not errors.
      process.exit(err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2);
    }
    if (
      err instanceof InvalidArgumentError ||
      err instanceof StateError ||
      err instanceof SizeInputError ||
      err instanceof ExperimentArgumentError
    ) {
      process.stderr.write(`experiment: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `experiment: ${err instanceof ExperimentError || err instanceof CassandraUserDataChangeError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
