/**
 * OpenTelemetry tracing: one span per event from the load generator's send, through the detector's consume,
 * Cassandra calls and CUSUM, to the verdict; the context crosses Kafka in the record headers (W3C traceparent).
 * Exported over OTLP/HTTP to Jaeger v2. With a sampling ratio of 0 (the benchmark default) nothing is set up:
 * the API's no-op tracer costs nothing and no header is added.
 */
import { context, propagation, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Flush and stop the exporter. */
  shutdown(): Promise<void>;
}

export function setupTracing(serviceName: string, sampleRatio: number, otlpEndpoint: string): Tracing {
  if (sampleRatio <= 0) return { enabled: false, tracer: trace.getTracer(serviceName), shutdown: () => Promise.resolve() };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    // Follow the producer's decision when there is one, so a sampled event is traced end to end.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` }), {
        maxQueueSize: 8192,
      }),
    ],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return { enabled: true, tracer: trace.getTracer(serviceName), shutdown: () => provider.shutdown() };
}

/** Kafka headers as kafkajs gives them (Buffer, string, arrays, undefined). */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const headerGetter = {
  keys: (h: KafkaHeaders) => Object.keys(h),
  get: (h: KafkaHeaders, key: string) => {
    const v = h[key];
    if (v === undefined) return undefined;
    const first = Array.isArray(v) ? v[0] : v;
    return first === undefined ? undefined : first.toString();
  },
};

/** The trace context carried by a record's headers (or the active context when there is none). */
export const contextFromHeaders = (headers: KafkaHeaders | undefined): Context =>
  headers ? propagation.extract(context.active(), headers, headerGetter) : context.active();

/** Headers that carry `span`'s context, to put on a record; empty when the span is not recording. */
export function headersFor(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (span.isRecording()) propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier;
}
