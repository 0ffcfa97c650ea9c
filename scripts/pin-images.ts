/**
 * npm run pin-images [-- --lock <file>]
 * On a machine that reaches the registries (Docker with buildx, or crane): reads the digest of every image the
 * kit runs by tag (the charts' third-party images, the Dockerfile's base) and writes them to images.lock.json,
 * which the charts and the app image's build read by default; commit it. A reference no tool resolved keeps the
 * digest the lock had for it (or none) and the command exits 1 naming it and each tool's error.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { imageLockPath, imageLockText, readImageLock, type ImageLock } from "../cdk/image-lock.ts";
import { runTool, type ToolRunner } from "./aws/tools-check.ts";
import { resolveDigest, type DigestResult } from "./images/digest-tools.ts";
import { dockerfilePath, kitImages } from "./images/image-references.ts";

export interface PinOptions {
  readonly run: ToolRunner;
  readonly lockPath: string;
  readonly dockerfileText: string;
  readonly log: (line: string) => void;
}

export interface PinOutcome {
  readonly lock: ImageLock;
  readonly resolved: DigestResult[];
  /** References no tool resolved, with each tool's error. */
  readonly unresolved: DigestResult[];
  /** Images no tag of ours names (nothing to resolve). */
  readonly untagged: string[];
}

export async function pinImages(o: PinOptions): Promise<PinOutcome> {
  const previous: ImageLock = existsSync(o.lockPath) ? readImageLock(o.lockPath) : { images: {} };
  const images = kitImages(o.dockerfileText);
  const references = [...new Set(images.flatMap((i) => (i.reference === undefined ? [] : [i.reference])))];
  const results: DigestResult[] = [];
  // One at a time: a few references, and a registry's rate limit is per client.
  for (const reference of references) {
    const result = await resolveDigest(reference, o.run);
    o.log(
      result.digest === undefined
        ? `${reference}: not resolved (${result.errors.join("; ")})`
        : `${reference}: ${result.digest} (${result.tool})`,
    );
    results.push(result);
  }
  const lock: ImageLock = {
    images: Object.fromEntries(results.map((r) => [r.reference, r.digest ?? previous.images[r.reference] ?? null])),
  };
  writeFileSync(o.lockPath, imageLockText(lock));
  return {
    lock,
    resolved: results.filter((r) => r.digest !== undefined),
    unresolved: results.filter((r) => r.digest === undefined),
    untagged: images.filter((i) => i.reference === undefined).map((i) => `${i.label} (${i.use})`),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const command = new Command("pin-images")
    .description("resolve the kit's image tags to digests (docker buildx imagetools or crane) and write images.lock.json")
    .option("--lock <file>", "the lock file to write", imageLockPath)
    .exitOverride();
  command.parse([...argv], { from: "user" });
  const { lock } = command.opts<{ lock: string }>();
  const outcome = await pinImages({
    run: runTool,
    lockPath: lock,
    dockerfileText: readFileSync(dockerfilePath, "utf8"),
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(
    `${lock}: ${outcome.resolved.length} of ${outcome.resolved.length + outcome.unresolved.length} references resolved\n`,
  );
  for (const u of outcome.untagged) process.stdout.write(`not pinned here (no tag of ours names it): ${u}\n`);
  if (outcome.unresolved.length > 0) {
    process.stderr.write(
      `pin-images: not resolved: ${outcome.unresolved.map((r) => r.reference).join(", ")}; they keep the lock's earlier digest, if any\n`,
    );
    return 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const code = (error as { code?: string }).code;
      if (code === "commander.helpDisplayed") process.exit(0);
      if (typeof code === "string" && code.startsWith("commander.")) process.exit(2);
      process.stderr.write(`pin-images: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
