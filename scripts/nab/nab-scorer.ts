/**
 * NAB's own scorer (its run.py: --optimize --score --normalize) on a private copy of a NAB clone, since the scorer
 * writes thresholds and scores into its tree. Its Python packages come from scripts/nab/nab-requirements.txt,
 * installed into the project's venv (.tools/py) by scripts/python-tools.sh.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../local/locations.ts";
import { NabCorpusError } from "./nab-corpus.ts";

/** The thresholds NAB's optimiser chose, per detector and profile (the copy's config/thresholds.json). */
export function chosenThresholds(root: string, detector: string): Record<NabProfile, number> {
  const all = JSON.parse(readFileSync(join(root, "config", "thresholds.json"), "utf8")) as Record<
    string,
    Record<NabProfile, { threshold: number }>
  >;
  const mine = all[detector];
  if (!mine) throw new Error(`NAB's optimiser wrote no thresholds for ${detector}`);
  return Object.fromEntries(nabProfiles.map((p) => [p, mine[p].threshold])) as Record<NabProfile, number>;
}

/** NAB's three cost profiles, as its config and results name them. */
export const nabProfiles = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"] as const;
export type NabProfile = (typeof nabProfiles)[number];

/** What the scorer needs of a clone: its code, config, labels, data and the null detector's results (normalisation). */
const scorerParts = ["run.py", "nab", "config", "labels", "data", join("results", "null")];

/** A writable copy of the parts of `nabRoot` the scorer reads, in a new temporary folder; returns its path. */
export function scorerCopy(nabRoot: string): string {
  const missing = scorerParts.filter((p) => !existsSync(join(nabRoot, p)));
  if (missing.length > 0) throw new NabCorpusError(`--nab ${nabRoot}: the clone lacks ${missing.join(", ")}, which NAB's scorer needs`);
  const root = mkdtempSync(join(tmpdir(), "nab-"));
  for (const part of scorerParts) cpSync(join(nabRoot, part), join(root, part), { recursive: true });
  makeWritable(root);
  return root;
}

function makeWritable(path: string): void {
  const s = statSync(path);
  chmodSync(path, s.mode | 0o200);
  if (s.isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/** The detectors whose results a clone already holds (a full NAB clone has every published detector's). */
export function resultsDetectors(nabRoot: string): string[] {
  const dir = join(nabRoot, "results");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => d !== "null" && statSync(join(dir, d)).isDirectory());
}

/** Installs the scorer's Python packages (once) and returns the Python that has them. */
export function scorerPython(): string {
  const r = spawnSync(
    "bash",
    [join(projectRoot, "scripts", "python-tools.sh"), join(projectRoot, "scripts", "nab", "nab-requirements.txt")],
    {
      stdio: "inherit",
    },
  );
  if (r.status !== 0) throw new Error("installing NAB's Python packages failed (scripts/nab/nab-requirements.txt; output above)");
  return join(projectRoot, ".tools", "py", "bin", "python");
}

export type NabScores = Record<string, Record<NabProfile, number>>;

/**
 * Runs NAB's optimise, score and normalise steps for `detectors` in the copy `root`, the scorer's lines passed to
 * `log` as they come (its optimiser runs a few minutes), and returns the normalised scores it wrote.
 */
export async function runNabScorer(root: string, detectors: readonly string[], log: (line: string) => void): Promise<NabScores> {
  const python = scorerPython();
  const args = ["run.py", "-d", detectors.join(","), "--optimize", "--score", "--normalize", "--skipConfirmation", "-n", "1"];
  const tail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(python, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    const take = (chunk: Buffer) => {
      for (const line of chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (/score|Running|Optimizer/i.test(line)) log(`  nab: ${line.trim()}`);
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", reject);
    child.on("close", resolve);
  });
  if (code !== 0) throw new Error(`NAB's scorer exited with ${code} in ${root}:\n${tail.join("\n")}`);
  const final = JSON.parse(readFileSync(join(root, "results", "final_results.json"), "utf8")) as NabScores;
  for (const d of detectors)
    if (!final[d]) throw new Error(`NAB's scorer wrote no scores for ${d} (${join(root, "results", "final_results.json")})`);
  return final;
}

export interface CategoryScore {
  readonly category: string;
  readonly windows: number;
  /** Points scored at or above the threshold outside every window (NAB's FP count). */
  readonly falsePositives: number;
  /** The category's NAB score, normalised as NAB normalises the corpus (null when it has no windows). */
  readonly score: number | null;
}

/**
 * Per-category scores from the scorer's per-file table (`<detector>_<profile>_scores.csv`: the raw score, TP, FP
 * and FN of each file at the corpus-wide threshold), normalised like NAB's total: 100 (raw − null) / (perfect −
 * null), with null = −fnWeight and perfect = tpWeight per window.
 */
export function categoryScores(
  root: string,
  detector: string,
  profile: NabProfile,
  windowsByFile: ReadonlyMap<string, number>,
): CategoryScore[] {
  const weights = (
    JSON.parse(readFileSync(join(root, "config", "profiles.json"), "utf8")) as Record<string, { CostMatrix: Record<string, number> }>
  )[profile]!.CostMatrix;
  const [header, ...rows] = readFileSync(join(root, "results", detector, `${detector}_${profile}_scores.csv`), "utf8")
    .trim()
    .split("\n");
  const col = (name: string) => header!.split(",").indexOf(name);
  const byCategory = new Map<string, { raw: number; windows: number; fp: number }>();
  for (const row of rows) {
    const cells = row.split(",");
    const file = cells[col("File")]!;
    if (!windowsByFile.has(file)) continue; // the totals row
    const category = file.split("/")[0]!;
    const c = byCategory.get(category) ?? { raw: 0, windows: 0, fp: 0 };
    c.raw += Number(cells[col("Score")]);
    c.windows += windowsByFile.get(file)!;
    c.fp += Number(cells[col("FP")]);
    byCategory.set(category, c);
  }
  return [...byCategory].map(([category, c]) => {
    const nullScore = -weights.fnWeight! * c.windows;
    const perfect = weights.tpWeight! * c.windows;
    return {
      category,
      windows: c.windows,
      falsePositives: c.fp,
      score: c.windows === 0 ? null : Math.round((1000 * (c.raw - nullScore)) / (perfect - nullScore)) / 10,
    };
  });
}
