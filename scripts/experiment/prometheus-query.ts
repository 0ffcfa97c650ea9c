/**
 * Reads results from Prometheus's HTTP API (`GET /api/v1/query`): the same queries for the local Prometheus and
 * for the cluster's (reached through `kubectl port-forward`, see prometheus-route.ts).
 * Response: {"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<unix s>,"<v>"]}]}}.
 */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

interface ApiResponse {
  status: "success" | "error";
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

export class PrometheusError extends Error {
  override name = "PrometheusError";
}

export class PrometheusClient {
  readonly baseUrl: string;
  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
  }

  /** An instant query; `time` in ms since the epoch (default: the server's now). Scalars become one sample. */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set("time", (time / 1000).toFixed(3));
    const url = `${this.baseUrl}/api/v1/query?${params.toString()}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let body: ApiResponse;
    try {
      body = JSON.parse(text) as ApiResponse;
    } catch {
      throw new PrometheusError(`query ${expr}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok || body.status !== "success" || body.data === undefined) {
      throw new PrometheusError(`query ${expr}: HTTP ${res.status} ${body.errorType ?? ""} ${body.error ?? ""}`.trim());
    }
    const { resultType, result } = body.data;
    if (resultType === "scalar") return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    if (resultType !== "vector") throw new PrometheusError(`query ${expr}: expected a vector, got ${resultType}`);
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  /** The single value of a query that aggregates to one series; null when it has no series or is NaN. */
  async value(expr: string, time?: number): Promise<number | null> {
    const samples = await this.query(expr, time);
    const v = samples[0]?.value;
    return v === undefined || Number.isNaN(v) ? null : v;
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/-/ready`, { signal: AbortSignal.timeout(5_000) })).ok;
    } catch {
      return false;
    }
  }
}

/** What one measurement window gives, read from the app's metrics (app/metrics.ts). */
export interface WindowMetrics {
  readonly checksPerSecond: number;
  readonly sentPerSecond: number;
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null; readonly p999: number | null };
  readonly consumerLag: { readonly max: number | null; readonly end: number | null };
  readonly anomalies: number;
  readonly checks: number;
  readonly errors: { readonly detector: number; readonly deadLetters: number; readonly sendFailures: number };
  /** CPU cores the detector processes used on average over the window. */
  readonly detectorCpuCores: number | null;
}

/** Prometheus range selector for a window of `seconds` (whole seconds, at least 1). */
const range = (seconds: number) => `${Math.max(1, Math.round(seconds))}s`;

/** The PromQL of each figure over a window of `seconds` ending at the query time; exported for the tests. */
export function windowQueries(seconds: number, detectorJob = "detector") {
  const r = range(seconds);
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le) (increase(detector_end_to_end_latency_seconds_bucket[${r}])))`;
  return {
    checksPerSecond: `sum(rate(detector_checks_total[${r}]))`,
    checks: `sum(increase(detector_checks_total[${r}]))`,
    sentPerSecond: `sum(rate(loadgen_events_sent_total[${r}]))`,
    p50: quantile(0.5),
    p99: quantile(0.99),
    p999: quantile(0.999),
    lagMax: `max_over_time(sum(detector_consumer_lag)[${r}:1s])`,
    lagEnd: `sum(detector_consumer_lag)`,
    anomalies: `sum(increase(detector_anomalies_total[${r}]))`,
    detectorErrors: `sum(increase(detector_errors_total[${r}]))`,
    deadLetters: `sum(increase(detector_dead_letters_total[${r}]))`,
    sendFailures: `sum(increase(loadgen_send_failures_total[${r}]))`,
    detectorCpuCores: `sum(rate(process_cpu_seconds_total{job="${detectorJob}"}[${r}]))`,
  } as const;
}

/**
 * Partitions of `topic` the detectors consumed in the window: the detectors export one detector_consumer_lag
 * series per partition they hold (app/metrics.ts), so counting distinct partitions over the window reads the
 * real count back from the consumers' assignments — where the runner cannot reach the brokers (MSK from a
 * laptop). A partition nobody was assigned has no series, so a topic left at an earlier stage's count shows.
 */
export const consumedPartitionsQuery = (topic: string, seconds: number): string =>
  `count(count by (partition) (last_over_time(detector_consumer_lag{topic=${JSON.stringify(topic)}}[${range(seconds)}])))`;

/** Current checks/s for the progress line. */
export const currentChecksQuery = `sum(rate(detector_checks_total[10s]))`;

const ms = (seconds: number | null) => (seconds === null || !Number.isFinite(seconds) ? null : Math.round(seconds * 10_000) / 10);

/** Reads every figure of a window [endMs − seconds, endMs]. Counters absent in the window count as 0. */
export async function readWindow(prom: PrometheusClient, endMs: number, seconds: number, detectorJob?: string): Promise<WindowMetrics> {
  const q = windowQueries(seconds, detectorJob);
  const entries = await Promise.all(Object.entries(q).map(async ([k, expr]) => [k, await prom.value(expr, endMs)] as const));
  const v = Object.fromEntries(entries) as Record<keyof typeof q, number | null>;
  const n = (x: number | null) => x ?? 0;
  return {
    checksPerSecond: n(v.checksPerSecond),
    sentPerSecond: n(v.sentPerSecond),
    latencyMs: { p50: ms(v.p50), p99: ms(v.p99), p999: ms(v.p999) },
    consumerLag: { max: v.lagMax, end: v.lagEnd },
    anomalies: Math.round(n(v.anomalies)),
    checks: Math.round(n(v.checks)),
    errors: {
      detector: Math.round(n(v.detectorErrors)),
      deadLetters: Math.round(n(v.deadLetters)),
      sendFailures: Math.round(n(v.sendFailures)),
    },
    detectorCpuCores: v.detectorCpuCores,
  };
}
