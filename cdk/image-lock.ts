/**
 * The image lock (images.lock.json at the repository's root): for each image reference the kit runs by tag
 * (`repository:tag`: the charts' third-party images and the Dockerfile's base), the digest it resolved to, or
 * null while none was read. `npm run pin-images` writes it on a machine that reaches the registries; the
 * charts and the app image's build read it by default. An entry counts only for its exact reference, so a
 * digest read for an old tag is never applied to a new one. No CDK import: charts/ and scripts/ read it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The file's name, at the repository's root. */
export const imageLockFile = "images.lock.json";
export const imageLockPath = fileURLToPath(new URL(`../${imageLockFile}`, import.meta.url));

export const digestPattern = /^sha256:[0-9a-f]{64}$/;
/** `[registry/]path:tag`: a reference by tag alone, the only kind the lock keys on. */
const taggedReference = /^[a-z0-9][a-z0-9._\-/:]*:[\w][\w.-]{0,127}$/;

export interface ImageLock {
  /** Reference (`repository:tag`) → its digest, or null while none was read. */
  readonly images: Readonly<Record<string, string | null>>;
}

/** The lock from its text; throws naming the field, the value and what is allowed. */
export function parseImageLock(text: string, source = imageLockFile): ImageLock {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const images = (raw as { images?: unknown } | null)?.images;
  if (typeof images !== "object" || images === null || Array.isArray(images)) {
    throw new Error(
      `${source}: field "images" is ${JSON.stringify(images)}; allowed: an object of "repository:tag": "sha256:<64 hex digits>" or null`,
    );
  }
  for (const [reference, digest] of Object.entries(images)) {
    if (!taggedReference.test(reference) || reference.includes("@")) {
      throw new Error(
        `${source}: key ${JSON.stringify(reference)} of "images" is not allowed; allowed: an image reference by tag, repository:tag`,
      );
    }
    if (digest !== null && !(typeof digest === "string" && digestPattern.test(digest))) {
      throw new Error(
        `${source}: images[${JSON.stringify(reference)}] is ${JSON.stringify(digest)}; allowed: "sha256:<64 lower-case hex digits>" or null`,
      );
    }
  }
  return { images: images as Record<string, string | null> };
}

export const readImageLock = (path = imageLockPath): ImageLock =>
  parseImageLock(readFileSync(path, "utf8"), path === imageLockPath ? imageLockFile : path);

/** The lock's text: references sorted, one per line, so a change reads as a one-line diff. */
export function imageLockText(lock: ImageLock): string {
  const sorted = Object.fromEntries(
    Object.keys(lock.images)
      .sort()
      .map((k) => [k, lock.images[k]!]),
  );
  return `${JSON.stringify({ images: sorted }, null, 2)}\n`;
}

export const lockedDigest = (lock: ImageLock, reference: string): string | undefined => lock.images[reference] ?? undefined;

/** The Dockerfile's base image: the build argument every FROM names and its default (`ARG NAME=ref`). */
export interface DockerfileBase {
  readonly arg: string;
  readonly reference: string;
}

/**
 * The base of a Dockerfile whose every FROM is `${ARG}` of one ARG declared before the first FROM, with a
 * reference by tag as its default; `undefined` for any other Dockerfile (a literal base cannot be pinned from
 * the lock; preflight names it).
 */
export function dockerfileBase(text: string): DockerfileBase | undefined {
  const lines = text.split("\n").map((l) => l.trim());
  const firstFrom = lines.findIndex((l) => /^FROM\s/i.test(l));
  if (firstFrom < 0) return undefined;
  const args = new Map(
    lines
      .slice(0, firstFrom)
      .map((l) => /^ARG\s+(\w+)=(\S+)$/i.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const bases = new Set(lines.filter((l) => /^FROM\s/i.test(l)).map((l) => /^FROM\s+\$\{?(\w+)\}?(\s|$)/i.exec(l)?.[1] ?? l));
  if (bases.size !== 1) return undefined;
  const [arg] = bases;
  const reference = args.get(arg!);
  return reference === undefined ? undefined : { arg: arg!, reference };
}

/** The base's literal FROM references when the Dockerfile does not take its base from an ARG. */
export const dockerfileLiteralBases = (text: string): string[] => [
  ...new Set(
    text
      .split("\n")
      .map((l) => /^\s*FROM\s+(\S+)/i.exec(l)?.[1])
      .filter((r): r is string => r !== undefined && !r.startsWith("$")),
  ),
];

/** The build arguments that pin the app image's base by the lock's digest; `undefined` while it has none. */
export function pinnedBuildArgs(dockerfileText: string, lock: ImageLock): Record<string, string> | undefined {
  const base = dockerfileBase(dockerfileText);
  const digest = base === undefined ? undefined : lockedDigest(lock, base.reference);
  return base === undefined || digest === undefined ? undefined : { [base.arg]: `${base.reference}@${digest}` };
}
