/**
 * npm run pin-images with the tools' recorded outputs (`docker buildx imagetools inspect` and `crane digest`,
 * as they print them), written to a lock file in a temporary folder: every reference the kit runs by tag is
 * resolved and locked, a tool that cannot run gives way to the next, a reference no tool resolves keeps its
 * earlier digest and is named with each tool's error. The committed lock lists exactly the kit's references,
 * and preflight names every image it does not pin.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageLockText, parseImageLock, pinnedBuildArgs, readImageLock } from "../../../cdk/image-lock.ts";
import { lockReference, thirdPartyImageNames } from "../../../charts/versions.ts";
import { checkImagePins } from "../../../scripts/aws/image-pins-check.ts";
import type { ToolRunner } from "../../../scripts/aws/tools-check.ts";
import { dockerfilePath, kitImages } from "../../../scripts/images/image-references.ts";
import { pinImages } from "../../../scripts/pin-images.ts";
import { recorded } from "../../recorded/recorded.ts";

/** The index digest both tools printed for the recorded image. */
const recordedDigest = "sha256:21a3deaa0d32a8057914f36584b5288d2e5ecc984380bc0118285c70fa8c9300";
const dockerfileText = readFileSync(dockerfilePath, "utf8");
const enoent = (command: string) => Object.assign(new Error(`spawn ${command} ENOENT`), { code: "ENOENT" });
/** execFile's error for a command that exited non-zero: "Command failed: …" then its stderr. */
const exitError = (command: string, args: readonly string[], stderr: string) =>
  Object.assign(new Error(`Command failed: ${command} ${args.join(" ")}\n${stderr}`), { code: 1 });

const tools =
  (answers: { docker?: "inspect" | "no-buildx"; crane?: boolean }, calls: string[] = []): ToolRunner =>
  (command, args) => {
    calls.push(`${command} ${args.join(" ")}`);
    if (command === "docker" && answers.docker === "inspect")
      return Promise.resolve(recorded("tools/docker-buildx-imagetools-inspect.alpine.txt"));
    if (command === "docker" && answers.docker === "no-buildx")
      return Promise.reject(exitError(command, args, recorded("tools/docker-buildx.not-installed.txt")));
    if (command === "crane" && answers.crane === true) return Promise.resolve(recorded("tools/crane-digest.alpine.txt"));
    return Promise.reject(enoent(command));
  };

const tempLock = (content?: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "kit-image-lock-")), "images.lock.json");
  if (content !== undefined) writeFileSync(path, content);
  return path;
};

/** The kit's references by tag: the tagged third-party images and the Dockerfile's base. */
const kitReferences = () => [...new Set(kitImages(dockerfileText).flatMap((i) => (i.reference === undefined ? [] : [i.reference])))].sort();

describe("npm run pin-images", () => {
  it("resolves every tag with docker buildx imagetools and writes them to the lock", async () => {
    const lockPath = tempLock();
    const calls: string[] = [];
    const outcome = await pinImages({ run: tools({ docker: "inspect" }, calls), lockPath, dockerfileText, log: () => {} });
    const lock = readImageLock(lockPath);
    expect(Object.keys(lock.images)).toEqual(kitReferences());
    expect(Object.keys(lock.images)).toContain("node:24-slim");
    expect(Object.values(lock.images)).toEqual(kitReferences().map(() => recordedDigest));
    expect([...calls].sort()).toEqual(kitReferences().map((r) => `docker buildx imagetools inspect ${r}`));
    expect(outcome.unresolved).toEqual([]);
    expect(outcome.untagged).toEqual(["quay.io/prometheus/prometheus (the Prometheus Operator's default version) (charts: prometheus)"]);
    // The Dockerfile's base reaches the image build by the lock's digest.
    expect(pinnedBuildArgs(dockerfileText, lock)).toEqual({ NODE_IMAGE: `node:24-slim@${recordedDigest}` });
    // Preflight then names only the image no tag of ours names.
    const check = checkImagePins(lock, kitImages(dockerfileText));
    expect(check.status).toBe("warn");
    expect(check.detail).toBe(
      `1 of ${kitReferences().length + 1} images pinned only by tag: quay.io/prometheus/prometheus (the Prometheus Operator's default version) (charts: prometheus)`,
    );
  });

  it("uses crane when docker has no buildx, and crane alone when docker is not installed", async () => {
    for (const docker of ["no-buildx", undefined] as const) {
      const lockPath = tempLock();
      const calls: string[] = [];
      const outcome = await pinImages({
        run: tools({ ...(docker === undefined ? {} : { docker }), crane: true }, calls),
        lockPath,
        dockerfileText,
        log: () => {},
      });
      expect(outcome.resolved.map((r) => (r.digest === undefined ? "" : r.tool))).toEqual(kitReferences().map(() => "crane"));
      expect(Object.values(readImageLock(lockPath).images)).toEqual(kitReferences().map(() => recordedDigest));
      expect(calls.filter((c) => c.startsWith("crane digest "))).toHaveLength(kitReferences().length);
    }
  });

  it("keeps the earlier digest of a reference no tool resolves, and names it with each tool's error", async () => {
    const grafana = lockReference("grafana")!;
    const earlier = `sha256:${"b".repeat(64)}`;
    const lockPath = tempLock(imageLockText({ images: { [grafana]: earlier, "grafana/grafana:11.0.0": earlier } }));
    const outcome = await pinImages({ run: tools({ docker: "no-buildx" }), lockPath, dockerfileText, log: () => {} });
    const lock = readImageLock(lockPath);
    // The old tag's entry is gone; the current tag keeps its digest; the others have none.
    expect(lock.images).toEqual(Object.fromEntries(kitReferences().map((r) => [r, r === grafana ? earlier : null])));
    expect(outcome.unresolved.map((r) => r.reference).sort()).toEqual(kitReferences());
    const first = outcome.unresolved[0]!;
    expect(first.digest === undefined ? first.errors : []).toEqual([
      "docker buildx imagetools: docker: unknown command: docker buildx",
      "crane: not found on PATH",
    ]);
  });

  it("refuses a malformed lock, naming the field, the value and what is allowed", () => {
    expect(() => parseImageLock(`{"images": {"grafana/grafana:12.4.10": "sha256:abc"}}`)).toThrow(
      'images.lock.json: images["grafana/grafana:12.4.10"] is "sha256:abc"; allowed: "sha256:<64 lower-case hex digits>" or null',
    );
    expect(() => parseImageLock(`{"images": {"grafana/grafana": null}}`)).toThrow(
      'images.lock.json: key "grafana/grafana" of "images" is not allowed; allowed: an image reference by tag, repository:tag',
    );
    expect(() => parseImageLock(`{"image": {}}`)).toThrow('images.lock.json: field "images" is undefined; allowed:');
  });
});

describe("the committed lock", () => {
  it("lists exactly the references the kit runs by tag (npm run pin-images writes these)", () => {
    expect(Object.keys(readImageLock().images).sort()).toEqual(kitReferences());
    expect(kitReferences()).toEqual(
      [...thirdPartyImageNames.flatMap((n) => (lockReference(n) === undefined ? [] : [lockReference(n)!])), "node:24-slim"].sort(),
    );
  });

  it("preflight names every image it leaves pinned only by tag", () => {
    const lock = readImageLock();
    const check = checkImagePins(lock, kitImages(dockerfileText));
    const unpinned = Object.entries(lock.images)
      .filter(([, d]) => d === null)
      .map(([r]) => r);
    if (unpinned.length === 0) return expect(check.detail).toMatch(/quay\.io\/prometheus\/prometheus/);
    expect(check.status).toBe("warn");
    for (const reference of unpinned) expect(check.detail).toContain(reference);
    expect(check.detail).toContain("quay.io/prometheus/prometheus (the Prometheus Operator's default version)");
    expect(check.fix).toMatch(/npm run pin-images/);
  });
});
