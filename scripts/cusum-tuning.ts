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
import { parseArgs } from "node:util";
import { cusumStep, type CusumSums } from "../app/detector/cusum.ts";
import { verdictRecord, type VerdictRecord } from "../app/events/verdict-codec.ts";
import { Rng } from "../app/loadgen/random.ts";
import { newKeyState, nextValue } from "../app/loadgen/value-models.ts";
import { loadgenSettings } from "../app/config.ts";
import { historyWindow } from "../app/topology.ts";
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
  const keys = Array.from({ length: t.keys }, () => ({ state: newKeyState(rng, walkShare), values: [] as number[], sums: undefined as CusumSums | undefined }));
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

function main(): void {
  const { values } = parseArgs({
    options: {
      "events-per-key": { type: "string", default: "2000" },
      keys: { type: "string", default: String(localRunDefaults.keys) },
      k: { type: "string", default: "0.5" },
      h: { type: "string", default: "5,6,8,10" },
      seeds: { type: "string", default: "12" },
      "spike-probability": { type: "string", default: String(localRunDefaults.spikeProbability) },
      "shift-probability": { type: "string", default: String(localRunDefaults.shiftProbability) },
    },
  });
  const list = (s: string) => s.split(",").map(Number);
  const runs = list(values.k).flatMap((k) => list(values.h).flatMap((h) => list(values.seeds).map((seed) => ({ k, h, seed }))));
  for (const { k, h, seed } of runs) {
    const s = simulate({
      k,
      h,
      keys: Number(values.keys),
      eventsPerKey: Number(values["events-per-key"]),
      seed,
      spikeProbability: Number(values["spike-probability"]),
      shiftProbability: Number(values["shift-probability"]),
    });
    const table = s.bySize.map((b) => `${b.kind} ${b.bucket}: ${b.detected}/${b.injected} d=${b.medianDelayEvents ?? "-"}`).join("; ");
    console.log(
      `k=${k} h=${h} seed=${seed}: FA/1000=${s.falseAlarmsPer1000Checks.toFixed(3)} (${s.falsePositives}/${s.inControlChecks}) ` +
        `precision=${s.precision.toFixed(3)} recall=${s.recall.toFixed(3)} repeats=${s.repeatFlags} | ${table}`,
    );
  }
}

main();
