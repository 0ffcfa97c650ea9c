/**
 * OpenTelemetry tracing: a span per event at the load generator's send, and a trace per checked event in the
 * detector (consume, Cassandra calls, CUSUM, verdict) linked to the producer's span, whose context crosses Kafka
 * in the record headers (W3C traceparent). Exported over OTLP/HTTP to Jaeger v2. With a sampling ratio of 0 (the
 * benchmark default) nothing is set up: the API's no-op tracer costs nothing and no header is added.
 */
import {
  context,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  type Link,
  type Span,
  type SpanOptions,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

export interface Tracing {
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Flush and stop the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Which spans are recorded: a trace we start is sampled at our ratio, a span inside it follows its local parent.
 * A remote parent (a context from another process) does not decide: its sampled flag is the sender's choice,
 * and followed it would let any producer have every one of its records traced. So a remote parent gets our ratio
 * too. That ratio reads the trace id, which a remote parent also chose, so the detector does not parent on a
 * record's context at all (startConsumerSpan): it links to it from a trace of its own.
 */
export function samplerFor(sampleRatio: number): Sampler {
  const ours = new TraceIdRatioBasedSampler(sampleRatio);
  return new ParentBasedSampler({ root: ours, remoteParentSampled: ours, remoteParentNotSampled: ours });
}

/** The W3C trace-context headers, read and written the same way whether or not a global propagator is set. */
const traceContext = new W3CTraceContextPropagator();

export function setupTracing(serviceName: string, sampleRatio: number, otlpEndpoint: string): Tracing {
  if (sampleRatio <= 0) return { enabled: false, tracer: trace.getTracer(serviceName), shutdown: () => Promise.resolve() };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    sampler: samplerFor(sampleRatio),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` }), {
        maxQueueSize: 8192,
      }),
    ],
  });
  provider.register({ propagator: traceContext });
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

/** The producer's span named by a record's traceparent header; undefined when there is none or it is not valid. */
function producerLink(headers: KafkaHeaders | undefined): Link | undefined {
  if (headers === undefined) return undefined;
  const remote = trace.getSpanContext(traceContext.extract(ROOT_CONTEXT, headers, headerGetter));
  return remote !== undefined && isSpanContextValid(remote) ? { context: remote } : undefined;
}

/**
 * The span of one consumed record: the root of a trace of our own, so our ratio on our own random trace id alone
 * decides whether it is recorded (see samplerFor), with a link to the producer's span when the record names one.
 * With tracing off the headers are not read.
 */
export function startConsumerSpan(tracing: Tracing, name: string, options: SpanOptions, headers: KafkaHeaders | undefined): Span {
  const link = tracing.enabled ? producerLink(headers) : undefined;
  return tracing.tracer.startSpan(name, { ...options, root: true, ...(link ? { links: [...(options.links ?? []), link] } : {}) });
}

/** Headers that carry `span`'s context, to put on a record; empty when the span is not recording. */
export function headersFor(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  if (span.isRecording()) traceContext.inject(trace.setSpan(context.active(), span), carrier, defaultTextMapSetter);
  return carrier;
}
