/**
 * The verdicts on the checks topic: one JSON object per checked event. JSON because their readers are
 * people, dashboards and the verification of `npm run local`, and one verdict is cheap next to the check.
 * The event's identity and ground-truth label travel along so precision and recall can be counted from
 * this topic alone.
 */
import { z } from "zod";
import { labels, type Event } from "./event-codec.ts";
import type { StepVerdict } from "../detector/cusum.ts";
import type { KeyVerdict } from "../detector/key-check.ts";
import { spatialStrategyNames } from "../spatial/neighbours.ts";

export const verdictFormatVersion = 1;

/** The fields of one CUSUM step's verdict, in the key's verdict and in the spatial one alike. */
const stepShape = {
  anomaly: z.boolean(),
  direction: z.enum(["up", "down"]).nullable(),
  score: z.number(),
  /** The baseline; null when it is not a finite number (JSON has no Infinity or NaN). */
  mean: z.number().nullable(),
  sigma: z.number().nullable(),
  n: z.number(),
  /** Why no verdict could be reached (cusum.ts `Verdict.reason`); absent when one was. */
  reason: z.enum(["non-finite-value", "short-history", "non-finite-baseline"]).optional(),
};

/** A number as JSON can carry it: null for Infinity and NaN (and for none at all). */
export const finiteOrNull = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** A step verdict's fields as the records carry them (an infinite score as the largest finite number). */
export const stepFields = (v: StepVerdict) => ({
  anomaly: v.anomaly,
  direction: v.direction,
  score: Number.isFinite(v.score) ? v.score : Number.MAX_VALUE,
  mean: finiteOrNull(v.mean),
  sigma: finiteOrNull(v.sigma),
  n: v.n,
  ...(v.reason === undefined ? {} : { reason: v.reason }),
});

/**
 * The spatial check's verdict (app/spatial/spatial-check.ts), on a located event when the detector's
 * spatial strategy is on: the CUSUM step against its nearest previous events of any key, and how the search went.
 */
const spatialVerdictSchema = z.object({
  strategy: z.enum(spatialStrategyNames),
  ...stepShape,
  /** Neighbours found, and the distance (metres) of the nearest and the farthest of them. */
  neighbours: z.number().int().min(0),
  nearestMetres: z.number().nullable(),
  farthestMetres: z.number().nullable(),
  /** Search rounds (1 + widenings), rows read, and whether a read was cut at the candidate limit. */
  rounds: z.number().int().min(1),
  rowsRead: z.number().int().min(0),
  truncated: z.boolean(),
});
export type SpatialVerdictRecord = z.infer<typeof spatialVerdictSchema>;

const verdictSchema = z.object({
  v: z.literal(verdictFormatVersion),
  id: z.string(),
  time: z.number(),
  producer: z.string(),
  seq: z.number(),
  value: z.number(),
  label: z.enum(labels),
  ...stepShape,
  /** Which baseline the value was compared with (cusum.ts predict): the history's level, or a walk's next step. */
  model: z.enum(["level", "walk"]).optional(),
  /**
   * The real-data anomaly score in [0, 1] (key-check.ts): the larger of the range and likelihood parts'
   * scores, each 0.5 at its alarm point; `cause`: which part gave it. `anomaly` and `score` stay the CUSUM's.
   */
  anomalyScore: z.number().min(0).max(1).optional(),
  cause: z.enum(["range", "likelihood"]).nullable().optional(),
  /**
   * On an anomaly, where the change began (Page's estimate): the first event of the signalling run was
   * `changeEventsAgo − 1` events before this one (1: this event), at `changeStartedAt` (its event time, ms since
   * the epoch; absent when that event is older than the history read). "Shift started N events ago at <time>".
   */
  changeEventsAgo: z.number().int().min(1).optional(),
  changeStartedAt: z.number().optional(),
  /** ms since the epoch when the verdict was made; minus `time` is the end-to-end latency. */
  checkedAt: z.number(),
  /** Present only on a located event checked with a spatial strategy on (absent: no spatial check). */
  spatial: spatialVerdictSchema.optional(),
});
export type VerdictRecord = z.infer<typeof verdictSchema>;

/**
 * The verdict on the checks topic. `historyTimes`: the times of the history the check read, oldest first (the
 * change's start time is looked up there).
 */
export function verdictRecord(
  e: Event,
  v: StepVerdict | KeyVerdict,
  checkedAt: number,
  historyTimes: readonly number[] = [],
): VerdictRecord {
  const startedAt =
    v.changeEventsAgo === undefined
      ? undefined
      : v.changeEventsAgo === 1
        ? e.time
        : historyTimes[historyTimes.length - (v.changeEventsAgo - 1)];
  return {
    v: verdictFormatVersion,
    id: e.id,
    time: e.time,
    producer: e.producer,
    seq: e.seq,
    value: e.value,
    label: e.label,
    ...stepFields(v),
    ...(v.model === undefined ? {} : { model: v.model }),
    ...("anomalyScore" in v ? { anomalyScore: v.anomalyScore, cause: v.cause } : {}),
    ...(v.changeEventsAgo === undefined ? {} : { changeEventsAgo: v.changeEventsAgo }),
    ...(startedAt === undefined ? {} : { changeStartedAt: startedAt }),
    checkedAt,
  };
}

export const encodeVerdict = (r: VerdictRecord): Buffer => Buffer.from(JSON.stringify(r));

/** Parse a verdict; throws on a record that is not one (the checks topic is ours alone). */
export const decodeVerdict = (bytes: Buffer): VerdictRecord => verdictSchema.parse(JSON.parse(bytes.toString("utf8")));
