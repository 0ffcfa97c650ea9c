/**
 * The repository explains itself: no tracked source file or document sends its reader to something a clone does
 * not hold — an issue tracker's numbers, a design document that was never committed, or a folder beside the
 * checkout. A comment says why in its own words instead.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url).pathname;

/** Where a reader would have to leave the repository to follow the text. */
const foreignReferences: readonly { what: string; pattern: RegExp }[] = [
  { what: "an issue number", pattern: /\bissues?[- ]#?\d+\b|\bissues \d+ and \d+\b/i },
  { what: "a design document the repository lacks", pattern: /\bDESIGN\.md\b/ },
  { what: "a folder outside the checkout", pattern: /\.\.\/shared\b/ },
];

/** Text a person wrote: code, scripts and documents. Generated bindings and recorded results are not. */
const scanned = /\.(ts|tsx|mts|js|mjs|cjs|sh|md)$|^\.ci\/run$|^Dockerfile$/;
const generated = /^(charts\/imports\/|results\/)/;

function trackedFiles(): string[] {
  return execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f !== "");
}

/** Every `file:line: what` in `text` that sends the reader outside the repository. */
function findForeignReferences(file: string, text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    for (const { what, pattern } of foreignReferences) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
  });
  return found;
}

describe("no source file cites what the repository does not hold", () => {
  const files = trackedFiles().filter((f) => scanned.test(f) && !generated.test(f));

  it("finds each kind of foreign reference, and none in plain prose", () => {
    // Built from parts so that this file's own text holds none of what it looks for.
    const cites = ["// ok", "// see issue" + " 12", "/** (issues" + " 10 and 11) */"];
    expect(findForeignReferences("a.ts", cites.join("\n"))).toEqual([
      `a.ts:2: an issue number: ${cites[1]}`,
      `a.ts:3: an issue number: ${cites[2]}`,
    ]);
    const others = ["// the issue" + "-7 budget", "// DESIGN" + ".md §3", "// ../" + "shared/notes"];
    expect(findForeignReferences("b.ts", others.join("\n")).map((f) => f.split(": ")[1])).toEqual([
      "an issue number",
      "a design document the repository lacks",
      "a folder outside the checkout",
    ]);
    expect(findForeignReferences("c.ts", "// an issue with 2 brokers; the design's constants; ../share")).toEqual([]);
  });

  it("scans the tracked sources, this file among them", () => {
    expect(files).toContain("test/repo/no-foreign-references.test.ts");
    expect(files).toContain("README.md");
    expect(files.some((f) => f.startsWith("app/"))).toBe(true);
  });

  it("finds no issue number, missing design document or outside folder in any tracked source", () => {
    const found = files.flatMap((f) => findForeignReferences(f, readFileSync(root + f, "utf8")));
    expect(found).toEqual([]);
  });
});
