/**
 * Offline tuning of the CUSUM's k and h: the load generator's own value models and anomaly injection
 * (app/loadgen/value-models.ts) through the detector's own step (cusumStep) with a rolling history of
 * `historyWindow` values and the sums carried per key, exactly as the pipeline runs them, minus Kafka and
 * Cassandra. Scored by the same function as `npm run local` (scoreVerdicts): recall within the episode and
 * median delay per kind and size, false alarms per 1,000 in-control checks, precision.
 *
 *   bash scripts/with-node.sh tsx scripts/cusum-tuning.ts [--events-per-key 2000] [--keys 300] [--k 0.5] [--h 5,6,8,10]
 *     [--seeds 12,13] [--spike-probability p] [--shift-probability p]   (defaults: npm run local's)
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cusumDefaults, cusumStep, type CusumSums } from "../app/detector/cusum.ts";
import { verdictRecord, type VerdictRecord } from "../app/events/verdict-codec.ts";
import { Rng } from "../app/loadgen/random.ts";
import { newKeyState, nextValue } from "../app/loadgen/value-models.ts";
import { detectorSettings, loadgenSettings } from "../app/config.ts";
import { historyWindow } from "../app/topology.ts";
import { plainNumberOption, readToolArgs, settingNumber } from "./cli-number.ts";
import { localRunDefaults } from "./local/pipeline-run.ts";
import { eventName, scoreVerdicts, type InjectionRecord, type Score } from "./local/verify.ts";

export interface TuningRun {
  readonly k: number;
  readonly h: number;
  readonly keys: number;
  readonly eventsPerKey: number;
  readonly seed: number;
  readonly spikeProbability: number;
  readonly shiftProbability: number;
}

/** One simulated run: every key's events in round-robin order (as the pipeline sees them per key). */
export function simulate(t: TuningRun): Score {
  const rng = new Rng(t.seed);
  const walkShare = Number(loadgenSettings.randomWalkShare.default);
  const injection = { spikeProbability: t.spikeProbability, shiftProbability: t.shiftProbability };
  const keys = Array.from({ length: t.keys }, () => ({
    state: newKeyState(rng, walkShare),
    values: [] as number[],
    sums: undefined as CusumSums | undefined,
  }));
  const verdicts: VerdictRecord[] = [];
  const injections: InjectionRecord[] = [];
  const injected = { spike: 0, shift: 0 };
  let seq = 0;
  for (let round = 0; round < t.eventsPerKey; round++) {
    keys.forEach((key, i) => {
      const { value, label, sigmas } = nextValue(key.state, rng, injection);
      const event = { id: `k${i}`, time: seq, producer: "sim", seq, value, label };
      if (label !== "none") {
        injected[label]++;
        injections.push({ name: eventName("sim", seq), kind: label, sigmas });
      }
      const { verdict, sums } = cusumStep(key.values.slice(-historyWindow), value, key.sums, { k: t.k, h: t.h });
      key.sums = sums;
      key.values.push(value);
      if (key.values.length > 4 * historyWindow) key.values.splice(0, key.values.length - historyWindow);
      verdicts.push(verdictRecord(event, verdict, seq));
      seq++;
    });
  }
  return scoreVerdicts(verdicts, injected, injections);
}

/** Bounds against typos only: the simulation holds every verdict in memory. */
const eventsPerKeyRange = { min: 1, max: 1_000_000, integer: true } as const;
/** The generator's seed is a 32-bit unsigned integer (app/loadgen/random.ts). */
const seedRange = { min: 0, max: 2 ** 32 - 1, integer: true } as const;

/**
 * The runs the command line asks for: each k × each h × each seed. k, h, keys and the probabilities are read as
 * the detector and load generator read them (their settings in app/config.ts); throws naming a flag it cannot read.
 */
export function tuningRuns(argv: readonly string[]): TuningRun[] {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "events-per-key": { type: "string", default: "2000" },
      keys: { type: "string", default: String(localRunDefaults.keys) },
      k: { type: "string", default: String(cusumDefaults.k) },
      h: { type: "string", default: "5,6,8,10" },
      seeds: { type: "string", default: "12" },
      "spike-probability": { type: "string", default: String(localRunDefaults.spikeProbability) },
      "shift-probability": { type: "string", default: String(localRunDefaults.shiftProbability) },
    },
  });
  const list = (raw: string) => raw.split(",");
  const ks = list(values.k).map((v) => settingNumber("--k", v, detectorSettings.cusumK));
  const hs = list(values.h).map((v) => settingNumber("--h", v, detectorSettings.cusumH));
  const seeds = list(values.seeds).map(plainNumberOption("--seeds", seedRange));
  const common = {
    keys: settingNumber("--keys", values.keys, loadgenSettings.keys),
    eventsPerKey: plainNumberOption("--events-per-key", eventsPerKeyRange)(values["events-per-key"]),
    spikeProbability: settingNumber("--spike-probability", values["spike-probability"], loadgenSettings.spikeProbability),
    shiftProbability: settingNumber("--shift-probability", values["shift-probability"], loadgenSettings.shiftProbability),
  };
  return ks.flatMap((k) => hs.flatMap((h) => seeds.map((seed) => ({ k, h, seed, ...common }))));
}

function main(argv: readonly string[]): void {
  for (const run of readToolArgs("cusum-tuning", () => tuningRuns(argv)) ?? []) {
    const { k, h, seed } = run;
    const s = simulate(run);
    const table = s.bySize.map((b) => `${b.kind} ${b.bucket}: ${b.detected}/${b.injected} d=${b.medianDelayEvents ?? "-"}`).join("; ");
    console.log(
      `k=${k} h=${h} seed=${seed}: FA/1000=${s.falseAlarmsPer1000Checks.toFixed(3)} (${s.falsePositives}/${s.inControlChecks}) ` +
        `precision=${s.precision.toFixed(3)} recall=${s.recall.toFixed(3)} repeats=${s.repeatFlags} | ${table}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
