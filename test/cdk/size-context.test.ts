/**
 * Bad size input stops synth before any construct is made, with one message naming the key; the real
 * `cdk synth` CLI exits non-zero for a bad value and zero for a good one, offline and without credentials.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SizeInputError } from "../../cdk/size/size-input.ts";
import { sizePlanFrom } from "../../cdk/size/size-plan.ts";
import { imageFixture, repoRoot, testAccess } from "./kit-synth.ts";

describe("size context validation", () => {
  it.each(["2", "49", "abc", 2, 49, "3.5"])("rejects cassandraNodes=%s naming the key and what is allowed", (value) => {
    expect(() => sizePlanFrom({ cassandraNodes: value })).toThrow(SizeInputError);
    expect(() => sizePlanFrom({ cassandraNodes: value })).toThrow(/^cassandraNodes = .*allowed: an integer from 3 to 48$/);
  });

  it("lets explicit keys override a preset", () => {
    expect(sizePlanFrom({ preset: "stage-48", cassandraNodes: "3" }).cassandra.nodes).toBe(3);
  });

  // Context values are strings; a number means what its decimal digits say, nothing else: a lenient parse
  // would size a cluster from a typo ("0x10" as 16, "1e1" as 10).
  it.each(["0x10", "0o20", "0b10000", " 16", "16 ", "1 6", "1e1", "16.0", "+16", "-16", "016", "16n", "Infinity", 16.5, Number.NaN])(
    "parses numbers strictly: refuses cassandraNodes=%j",
    (value) => {
      expect(() => sizePlanFrom({ cassandraNodes: value })).toThrow(/^cassandraNodes = .*allowed: an integer from 3 to 48$/);
    },
  );

  it.each([
    ["kafkaBrokers", "0x6"],
    ["kafkaBrokers", " 6"],
    ["workerNodes", "1e1"],
    ["workerNodes", "0x0A"],
  ])("parses %s=%j strictly", (key, value) => {
    expect(() => sizePlanFrom({ cassandraNodes: "12", [key]: value })).toThrow(new RegExp(`^${key} = .*allowed: an integer from`));
  });

  it.each([
    ["16", 16],
    [16, 16],
    ["48", 48],
  ] as const)("accepts cassandraNodes=%j as %d", (value, nodes) => {
    expect(sizePlanFrom({ cassandraNodes: value }).cassandra.nodes).toBe(nodes);
  });

  it.each([
    ["cassandraNode", "cassandraNodes"],
    ["kafkabrokers", "kafkaBrokers"],
    ["workerNode", "workerNodes"],
    ["regoin", "region"],
    ["availabilityZone", "availabilityZones"],
    ["experimentID", "experimentId"],
    ["presets", "preset"],
  ])("refuses the unknown key %s by name and suggests %s", (typo, known) => {
    expect(() => sizePlanFrom({ cassandraNodes: "3", [typo]: "6" })).toThrow(
      new RegExp(`^${typo} = "6": unknown key; did you mean ${known}\\?`),
    );
  });

  it("refuses an unknown key unlike any known one, listing the known keys", () => {
    expect(() => sizePlanFrom({ cassandraNodes: "3", flavour: "vanilla" })).toThrow(
      /^flavour = "vanilla": unknown key; known keys: preset, cassandraNodes, .*experimentId/,
    );
  });

  it.each([
    ["us-east-1a,us-east-1b,us-east-10a", "us-east-10a"],
    ["us-east-1a,us-east-1b,us-east-1", "us-east-1"],
    ["us-east-1a,us-east-1b,us-east-1ab", "us-east-1ab"],
    ["us-east-1a,us-east-1b,us-east-1-bos-1a", "us-east-1-bos-1a"],
    ["us-east-1a,us-east-1b,use1-az1", "use1-az1"],
  ])("refuses availabilityZones=%s naming the bad zone %s", (zones, bad) => {
    expect(() => sizePlanFrom({ cassandraNodes: "3", availabilityZones: zones })).toThrow(
      new RegExp(`^availabilityZones = "${bad}": allowed: a zone name of region us-east-1: us-east-1 and one letter`),
    );
  });

  it("accepts three zones of the chosen region", () => {
    const plan = sizePlanFrom({ cassandraNodes: "3", region: "eu-west-1", availabilityZones: "eu-west-1c,eu-west-1a,eu-west-1b" });
    expect(plan.availabilityZones).toEqual(["eu-west-1c", "eu-west-1a", "eu-west-1b"]);
  });
});

/** Runs the real CDK CLI against cdk.json's app, with no AWS credentials in its environment. */
function cdkSynth(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  return spawnSync("bash", ["scripts/with-node.sh", "cdk", "synth", "-q", "--no-notices", "--no-version-reporting", ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 180_000,
    env: {
      ...env,
      CDK_VALIDATION: "false",
      ANOMALY_KIT_IMAGE_DIR: imageFixture,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_CONFIG_FILE: "/dev/null",
    },
  });
}

const admin = ["-c", `clusterAdminArn=${testAccess.clusterAdminArn}`];
const outdir = (name: string) => ["-o", mkdtempSync(join(tmpdir(), `kit-cli-${name}-`))];

describe("cdk synth (CLI)", () => {
  it("exits non-zero with one clear line for cassandraNodes=2", () => {
    const run = cdkSynth(["-c", "cassandraNodes=2", ...admin, ...outdir("bad")]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/^error: cassandraNodes = "2": allowed: an integer from 3 to 48$/m);
  }, 180_000);

  // The CLI adds its own keys (aws:cdk:*, cdk.json's feature flags) to the context: those must pass, a typo not.
  it("refuses a mistyped key by name, with the key it probably meant", () => {
    const run = cdkSynth(["-c", "cassandraNodes=3", "-c", "kafkaBroker=6", ...admin, ...outdir("typo")]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/^error: kafkaBroker = "6": unknown key; did you mean kafkaBrokers\?/m);
  }, 180_000);

  it("refuses to synthesize without clusterAdminArn, naming the key", () => {
    const run = cdkSynth(["-c", "cassandraNodes=3", ...outdir("no-admin")]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/^error: clusterAdminArn is missing: give -c clusterAdminArn=/m);
  }, 180_000);

  it("succeeds for cassandraNodes=3 offline", () => {
    const run = cdkSynth(["-c", "cassandraNodes=3", ...admin, "-c", `apiAccessCidrs=${testAccess.apiAccessCidrs}`, ...outdir("good")]);
    expect(run.status, run.stderr).toBe(0);
  }, 180_000);
});
