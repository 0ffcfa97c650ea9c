/**
 * The app image's base as the cloud assembly builds it: with the repository's Dockerfile (its base is the
 * NODE_IMAGE build argument), a lock holding the base's digest makes the CDK build the image from
 * `tag@digest`; a lock without one leaves the Dockerfile's default (the tag), which preflight names.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerfileBase, type ImageLock } from "../../cdk/image-lock.ts";
import { kitStackNames } from "../../cdk/stack-names.ts";
import { repoRoot, synthKit } from "./kit-synth.ts";

interface AssetManifest {
  dockerImages: Record<string, { source: { directory?: string; dockerBuildArgs?: Record<string, string> } }>;
}

const base = dockerfileBase(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
const digest = `sha256:${"c".repeat(64)}`;

/** The build arguments of the app image asset in the EKS stack's asset manifest. */
function appImageBuildArgs(imageLock: ImageLock): Record<string, string> | undefined {
  const { outdir } = synthKit({ preset: "stage-3", experimentId: "img" }, { nag: false, imageDirectory: repoRoot, imageLock });
  const manifest = JSON.parse(readFileSync(join(outdir, `${kitStackNames("img").eks}.assets.json`), "utf8")) as AssetManifest;
  const images = Object.values(manifest.dockerImages);
  expect(images).toHaveLength(1);
  return images[0]!.source.dockerBuildArgs;
}

describe("the app image's base", () => {
  it("is the Dockerfile's NODE_IMAGE argument, a reference by tag", () => {
    expect(base).toEqual({ arg: "NODE_IMAGE", reference: "node:24-slim" });
  });

  it("is built from the lock's digest when the lock has one, and from the Dockerfile's tag otherwise", () => {
    expect(appImageBuildArgs({ images: { [base!.reference]: digest } })).toEqual({ NODE_IMAGE: `${base!.reference}@${digest}` });
    expect(appImageBuildArgs({ images: { [base!.reference]: null } })).toBeUndefined();
  }, 120_000);
});
