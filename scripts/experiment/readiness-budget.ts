/**
 * How long an AWS stage may take to become ready, from the plan: Cassandra nodes join one at a time (each
 * waits for the previous node's CQL port, cdk/cassandra-user-data.ts), so the wait grows with the nodes that
 * join in this stage; the rest (pods, the schema Job, node 0's set-up) is a fixed part. And the progress line
 * that says how far the joins are and about how long is left.
 */
import type { SizePlan } from "../../cdk/size/size-plan.ts";
import type { ReadinessCheck } from "./readiness.ts";

export const readinessBudgetSettings = {
  /**
   * Upper bound of one node's join: JVM start, about a minute of ring delay and pending ranges, streaming its
   * ranges, then the next node's 15 s poll. A join is expected to take 2 to 3 minutes; the bound doubles that.
   */
  perJoinMinutes: 6,
  /**
   * Everything that does not grow with the joins: pods scheduled and Ready, the schema Job, node 0's set-up
   * (bounded by its own 30-minute wait for the first login and the repair) on a first deploy.
   */
  fixedMinutes: 30,
} as const;

const minute = 60_000;

export interface ReadinessBudget {
  /** Cassandra nodes that join in this stage: all of them on a first deploy, the added ones on growth. */
  readonly joins: number;
  readonly timeoutMs: number;
}

/**
 * The budget of a stage that grows the ring from `previousNodes` (0 or undefined: a first deploy, or a runner
 * that does not know what is deployed, which then allows for every node) to the plan's nodes.
 */
export function readinessBudget(plan: SizePlan, previousNodes: number | undefined): ReadinessBudget {
  const before = previousNodes ?? 0;
  if (!Number.isInteger(before) || before < 0 || before > plan.cassandra.nodes) {
    throw new Error(`previous Cassandra nodes = ${before}: allowed: an integer from 0 to this stage's ${plan.cassandra.nodes}`);
  }
  const joins = plan.cassandra.nodes - before;
  return { joins, timeoutMs: (readinessBudgetSettings.fixedMinutes + joins * readinessBudgetSettings.perJoinMinutes) * minute };
}

/**
 * Follows the joined count across readiness polls and estimates the time left: the pace of the joins seen
 * since the wait began, or the per-join bound until the first one is seen.
 */
export class JoinProgress {
  readonly #nodes: number;
  readonly #startedAt: number;
  #first: number | undefined;

  constructor(nodes: number, startedAt: number) {
    this.#nodes = nodes;
    this.#startedAt = startedAt;
  }

  /** "joined k of n, about m min left" for `joined` nodes seen at time `now`. */
  line(joined: number, now: number): string {
    this.#first ??= joined;
    const left = this.#nodes - joined;
    if (left <= 0) return `joined ${joined} of ${this.#nodes}`;
    const seen = joined - this.#first;
    const perJoinMs = seen > 0 ? (now - this.#startedAt) / seen : readinessBudgetSettings.perJoinMinutes * minute;
    return `joined ${joined} of ${this.#nodes}, about ${Math.ceil((left * perJoinMs) / minute)} min left`;
  }
}

/** "24 Cassandra join(s) × 6 min + 30 min: up to 174 min" */
export const readinessBudgetText = (b: ReadinessBudget): string =>
  `${b.joins} Cassandra join(s) × ${readinessBudgetSettings.perJoinMinutes} min + ${readinessBudgetSettings.fixedMinutes} min: up to ${b.timeoutMs / minute} min`;

/** One poll's progress line: the joins and the time left, then what is still not ready. */
export function readinessLine(checks: readonly ReadinessCheck[], joins: JoinProgress, now: number): string {
  const joined = checks.find((c) => c.joined !== undefined)?.joined;
  const waiting =
    checks
      .filter((c) => !c.ready)
      .map((c) => c.name)
      .join(", ") || "nothing";
  return `${joined === undefined ? "" : `Cassandra ${joins.line(joined.done, now)}; `}waiting for: ${waiting}`;
}
