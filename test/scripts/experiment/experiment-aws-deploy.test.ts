/**
 * The AWS runner's deploy step in order: `cdk synth` into the stage's own assembly, the Cassandra user-data
 * guard against CloudFormation's recorded GetTemplate answer, then `cdk deploy` of that same assembly, or no
 * deploy at all when the guard refuses, and then no teardown either: the running experiment stays as it was. The cdk CLI is a stand-in that records its calls and writes the
 * assembly's templates (a real synth of the kit); CloudFormation is the replay server.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { cassandraLogicalId } from "../../../cdk/cassandra-nodes.ts";
import { compressedUserData } from "../../../cdk/cassandra-user-data.ts";
import { userDataScript } from "../../../cdk/cassandra-user-data-files.ts";
import { kitStackNames } from "../../../cdk/stack-names.ts";
import { CassandraUserDataChangeError } from "../../../scripts/aws/cassandra-user-data-guard.ts";
import { Progress } from "../../../scripts/experiment/progress.ts";
import { runExperiment, workDirOf } from "../../../scripts/experiment/run-experiment.ts";
import { AwsStageRunner } from "../../../scripts/experiment/stage-runner-aws.ts";
import { recorded } from "../../recorded/recorded.ts";
import { useReplayServer, xmlReply, type Exchange } from "../../recorded/replay-server.ts";
import { synthKit, testAccess, type CfnTemplate } from "../../cdk/kit-synth.ts";

const fakeCdk = fileURLToPath(new URL("./fixtures/fake-cdk.mjs", import.meta.url));
const { server, ctx } = useReplayServer();
const experimentId = "exp-a";
const stackName = kitStackNames(experimentId).cassandra;

let stage3: CfnTemplate;
let stage6: CfnTemplate;
beforeAll(() => {
  const template = (nodes: number) =>
    synthKit({ cassandraNodes: nodes, experimentId }, { nag: false }).templates[`${stackName}.template.json`]!;
  stage3 = template(3);
  stage6 = template(6);
}, 180_000);

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const deployedIs = (template: CfnTemplate): Exchange => ({
  match: "GetTemplate",
  ...xmlReply(
    recorded("cloudformation/GetTemplate.xml").replace(
      /<TemplateBody>[\s\S]*<\/TemplateBody>/,
      `<TemplateBody>${xmlEscape(JSON.stringify(template))}</TemplateBody>`,
    ),
  ),
});

/** The stand-in cdk's assembly (stage 6's Cassandra template) and call log, in a new folder. */
function standInCdk(): { dir: string; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), "kit-deploy-"));
  const assemblySource = join(dir, "synth");
  mkdirSync(assemblySource);
  writeFileSync(join(assemblySource, `${stackName}.template.json`), JSON.stringify(stage6));
  process.env.FAKE_CDK_ASSEMBLY = assemblySource;
  process.env.FAKE_CDK_CALLS = join(dir, "calls.jsonl");
  writeFileSync(process.env.FAKE_CDK_CALLS, "");
  const log = process.env.FAKE_CDK_CALLS;
  const calls = () =>
    readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as string[]);
  return { dir, calls };
}

const runnerOptions = (workDir: string, replaceCassandraNodes: boolean) => ({
  experimentId,
  workDir,
  region: "us-east-1",
  keep: true,
  aws: ctx,
  clusterAdminArn: testAccess.clusterAdminArn,
  cdk: fakeCdk,
  replaceCassandraNodes,
});

/** Runs the deploy step of stage 6 with the stand-in cdk; returns its calls and the outcome. */
async function deployStage6(replaceCassandraNodes: boolean): Promise<{ calls: string[][]; error: unknown; workDir: string }> {
  const { dir, calls } = standInCdk();
  const workDir = join(dir, "work");
  const runner = new AwsStageRunner(runnerOptions(workDir, replaceCassandraNodes));
  const error = await runner.deploy(6, new Progress({ write: () => true }), new AbortController().signal).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { calls: calls(), error, workDir };
}

const withOldYaml = (template: CfnTemplate, node: string): CfnTemplate => {
  const copy = structuredClone(template);
  const props = copy.Resources[node]!.Properties!;
  props.UserData = compressedUserData(userDataScript(node, props.UserData).replace(/^num_tokens: 16$/m, "num_tokens: 256"));
  return copy;
};

describe("AWS runner deploy step", () => {
  it("leaves a running experiment as it was when a stage is refused: no teardown, no sweep", async () => {
    server.add(deployedIs(withOldYaml(stage3, cassandraLogicalId(1))));
    const { dir, calls } = standInCdk();
    const lines: string[] = [];
    const outcome = runExperiment({
      id: experimentId,
      target: "aws",
      stages: [6],
      durationSeconds: 60,
      warmupSeconds: 20,
      rate: { mode: "plan" },
      keep: false,
      resume: false,
      resultsRoot: join(dir, "results"),
      progress: new Progress({ write: (t: string) => lines.push(t) }),
      signal: new AbortController().signal,
      makeRunner: (state, experimentDir) => new AwsStageRunner({ ...runnerOptions(workDirOf(experimentDir), false), keep: false }),
    });
    await expect(outcome).rejects.toBeInstanceOf(CassandraUserDataChangeError);
    // Only the synth ran: no deploy, no cdk destroy, and no tagged-resource sweep reached AWS.
    expect(calls().map((c) => c[0])).toEqual(["synth"]);
    expect(server.keys()).toEqual(["GetTemplate"]);
    expect(lines.join("")).toMatch(/refused before any change: leaving everything running/);
  });

  it("synthesizes the stage, finds no running node changed, and deploys that same assembly", async () => {
    server.add(deployedIs(stage3));
    const { calls, error, workDir } = await deployStage6(false);
    expect(error).toBeUndefined();
    const assembly = join(workDir, "cdk.out");
    expect(calls.map((c) => c[0])).toEqual(["synth", "deploy"]);
    expect(calls[0]).toEqual(expect.arrayContaining(["cassandraNodes=6", `experimentId=${experimentId}`, "--output", assembly]));
    expect(calls[1]).toEqual(["deploy", "--all", "--app", assembly, "--require-approval", "never"]);
    expect(server.keys()).toEqual(["GetTemplate"]);
  });

  it("does not deploy when the stage would change a running node's user data, and names it", async () => {
    server.add(deployedIs(withOldYaml(stage3, cassandraLogicalId(1))));
    const { calls, error } = await deployStage6(false);
    expect(error).toBeInstanceOf(CassandraUserDataChangeError);
    expect((error as Error).message).toContain(`${cassandraLogicalId(1)} (/etc/cassandra/cassandra.yaml)`);
    expect(calls.map((c) => c[0])).toEqual(["synth"]);
  });

  it("deploys the change when told to replace the nodes", async () => {
    server.add(deployedIs(withOldYaml(stage3, cassandraLogicalId(1))));
    const { calls, error } = await deployStage6(true);
    expect(error).toBeUndefined();
    expect(calls.map((c) => c[0])).toEqual(["synth", "deploy"]);
  });
});
