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
import { imageFixture, repoRoot } from "./kit-synth.ts";

describe("size context validation", () => {
  it.each(["2", "49", "abc", 2, 49, "3.5"])("rejects cassandraNodes=%s naming the key and what is allowed", (value) => {
    expect(() => sizePlanFrom({ cassandraNodes: value })).toThrow(SizeInputError);
    expect(() => sizePlanFrom({ cassandraNodes: value })).toThrow(/^cassandraNodes = .*allowed: an integer from 3 to 48$/);
  });

  it("lets explicit keys override a preset", () => {
    expect(sizePlanFrom({ preset: "stage-48", cassandraNodes: "3" }).cassandra.nodes).toBe(3);
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

describe("cdk synth (CLI)", () => {
  it("exits non-zero with one clear line for cassandraNodes=2", () => {
    const run = cdkSynth(["-c", "cassandraNodes=2", "-o", mkdtempSync(join(tmpdir(), "kit-cli-bad-"))]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/^error: cassandraNodes = "2": allowed: an integer from 3 to 48$/m);
  }, 180_000);

  it("succeeds for cassandraNodes=3 offline", () => {
    const out = mkdtempSync(join(tmpdir(), "kit-cli-good-"));
    const run = cdkSynth(["-c", "cassandraNodes=3", "-o", out]);
    expect(run.status, run.stderr).toBe(0);
  }, 180_000);
});
