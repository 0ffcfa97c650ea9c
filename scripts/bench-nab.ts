/**
 * `npm run bench:nab -- --nab <path to a NAB clone>`: the pipeline's check on the Numenta Anomaly Benchmark, scored
 * by NAB's own scorer. Every series runs through the same step the detector calls (one key per series, in order,
 * with the carried state); the results go into NAB's layout in a private copy of the clone, NAB's run.py optimises
 * the threshold per cost profile and scores, and the bench reports the three profiles' scores, the same with each
 * part of the check left out (what each buys), per-category scores, and any other detector whose results the clone
 * holds, scored in the same run. Writes results/bench/nab.json and a chart of the score per category.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { keyCheckDefaults, tunedConstants, type KeyCheckOptions } from "../app/detector/key-check.ts";
import { machineFacts } from "./bench/machine.ts";
import { projectRoot } from "./local/locations.ts";
import { NabCorpusError, readNabCorpus } from "./nab/nab-corpus.ts";
import { writeDetectorResults } from "./nab/nab-detector.ts";
import { categoryScores, chosenThresholds, nabProfiles, resultsDetectors, runNabScorer, scorerCopy } from "./nab/nab-scorer.ts";
import { nabChart } from "./report/nab-chart.ts";
import { formatTable } from "./report/text-table.ts";

/** Our check and its ablations, by the detector names NAB's results folders get. */
const variants: Record<string, { label: string; options: KeyCheckOptions }> = {
  anomalyKit: { label: "the check", options: {} },
  anomalyKitNoRange: { label: "without the range part", options: { without: ["range"] } },
  anomalyKitNoLikelihood: { label: "without the likelihood part", options: { without: ["likelihood"] } },
};

/** The sweep: each tuned constant at half and at twice its default, the others at theirs (one at a time). NAB drops
 * results of detectors whose names hold a dot, so 0.002 is named 0p002. */
const sweepVariants: Record<string, { label: string; options: KeyCheckOptions }> = Object.fromEntries(
  tunedConstants.flatMap((name) =>
    [0.5, 2].map((factor) => {
      const value = keyCheckDefaults[name] * factor;
      return [
        `anomalyKit-${name}-${String(value).replace(".", "p")}`,
        { label: `${name} ${value} (default ${keyCheckDefaults[name]})`, options: { tuning: { [name]: value } } },
      ];
    }),
  ),
);

const program = new Command("bench:nab")
  .description("The check on the Numenta Anomaly Benchmark, scored by NAB's own scorer (standard, low-FP and low-FN profiles)")
  .addOption(new Option("--nab <path>", "a clone of NAB (github.com/numenta/NAB); it is read, never written"))
  .addOption(new Option("--no-ablate", "score only the check, not the check with each part left out"))
  .addOption(new Option("--sweep", "also score each tuned constant at half and twice its default (a few minutes more)").default(false))
  .addOption(new Option("--output-dir <dir>", "where the JSON and the chart go").default(join(projectRoot, "results", "bench")));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ nab?: string; ablate: boolean; sweep: boolean; outputDir: string }>();
  if (o.nab === undefined) {
    console.error("bench:nab needs --nab <path>: a clone of the Numenta Anomaly Benchmark (git clone https://github.com/numenta/NAB)");
    process.exit(2);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = Date.now();
  const nabRoot = resolve(o.nab);
  const corpus = readNabCorpus(nabRoot);
  const windowsByFile = new Map(corpus.map((s) => [s.relativePath, s.windows.length]));
  const values = corpus.reduce((n, s) => n + s.values.length, 0);
  const root = scorerCopy(nabRoot);
  const all = { ...variants, ...(o.sweep ? sweepVariants : {}) };
  const mine = Object.keys(all).filter((d) => o.ablate || !d.startsWith("anomalyKitNo"));
  for (const d of mine) {
    const t0 = Date.now();
    writeDetectorResults(corpus, join(root, "results"), d, all[d]!.options);
    log(
      `${d} (${all[d]!.label}): ${corpus.length} series, ${values.toLocaleString("en-US")} values checked in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const others = resultsDetectors(nabRoot);
  log(`NAB's scorer in ${root}: ${[...mine, ...others].join(", ")} (the optimiser takes a few minutes)`);
  const scores = await runNabScorer(root, [...mine, ...others], log);

  const result = {
    at: new Date().toISOString(),
    machine: machineFacts(),
    corpus: { path: nabRoot, series: corpus.length, values, windows: corpus.reduce((n, s) => n + s.windows.length, 0) },
    detectors: Object.fromEntries(
      [...mine, ...others].map((d) => [
        d,
        {
          variant: all[d]?.label ?? "from the clone's results",
          scores: scores[d]!,
          thresholds: chosenThresholds(root, d),
          categories: categoryScores(root, d, "standard", windowsByFile),
        },
      ]),
    ),
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  mkdirSync(o.outputDir, { recursive: true });
  const json = join(o.outputDir, "nab.json");
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  // The chart compares the check with its ablations (and other detectors); the sweep is in the JSON and the table.
  const charted = Object.fromEntries(Object.entries(result.detectors).filter(([d]) => !(d in sweepVariants)));
  const chart = await nabChart(charted, join(o.outputDir, "nab-categories"));
  console.log(
    formatTable(
      ["detector", ...nabProfiles],
      Object.entries(result.detectors).map(([d, r]) => [`${d} (${r.variant})`, ...nabProfiles.map((p) => r.scores[p].toFixed(1))]),
      ["left", "right", "right", "right"],
    ),
  );
  log(`written: ${json}, ${chart.png}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof NabCorpusError ? err.message : err);
  process.exit(1);
});
