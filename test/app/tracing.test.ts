/**
 * Sampling of consumed records: the producer's traceparent header may be linked to, but neither its sampled flag
 * nor its trace id decides whether the detector records a trace. Driven through the OpenTelemetry SDK's own
 * provider with its in-memory exporter, with the sampler and the span start the detector uses.
 */
import { SpanKind } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { headersFor, samplerFor, startConsumerSpan, type Tracing } from "../../app/tracing.ts";

const providers: BasicTracerProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

function tracingAt(ratio: number): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler: samplerFor(ratio), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  providers.push(provider);
  return { tracing: { enabled: true, tracer: provider.getTracer("test"), shutdown: () => provider.shutdown() }, exporter };
}

/** A producer's header: the trace id whose ratio test passes at any ratio above 0 (it hashes to 1), flags as given. */
const remoteTraceId = "00000000000000000000000000000001";
const remoteSpanId = "00f067aa0ba902b7";
const traceparent = (flags: "00" | "01") => ({ traceparent: `00-${remoteTraceId}-${remoteSpanId}-${flags}` });

const consume = (tracing: Tracing, headers: Record<string, string> | undefined) => {
  const span = startConsumerSpan(tracing, "events process", { kind: SpanKind.CONSUMER }, headers);
  span.end();
  return span;
};

describe("tracing of consumed records", () => {
  it("records none of a producer's sampled records at a ratio that samples almost nothing", () => {
    // Before: the sampled flag made every one of them recorded, whatever our ratio.
    const { tracing, exporter } = tracingAt(1e-9);
    const records = 2000;
    for (let i = 0; i < records; i++) consume(tracing, traceparent("01"));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it("records every record at ratio 1 whatever the producer's flag, in a trace of its own linked to the producer's span", () => {
    const { tracing, exporter } = tracingAt(1);
    for (const headers of [traceparent("00"), traceparent("01")]) consume(tracing, headers);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    for (const s of spans) {
      expect(s.spanContext().traceId).not.toBe(remoteTraceId);
      expect(s.parentSpanContext).toBeUndefined();
      expect(s.links.map((l) => [l.context.traceId, l.context.spanId, l.context.isRemote])).toEqual([[remoteTraceId, remoteSpanId, true]]);
    }
  });

  it("links nothing for a record without a valid traceparent, and still samples it at our ratio", () => {
    const { tracing, exporter } = tracingAt(1);
    const invalid: (Record<string, string> | undefined)[] = [
      undefined,
      {},
      { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }, // all-zero trace id
      { traceparent: "garbage" },
    ];
    for (const headers of invalid) consume(tracing, headers);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(4);
    expect(spans.every((s) => s.links.length === 0)).toBe(true);
  });

  it("puts our own trace context on what a recorded consumer span publishes", () => {
    const { tracing } = tracingAt(1);
    const span = startConsumerSpan(tracing, "events process", {}, traceparent("01"));
    const published = headersFor(span);
    span.end();
    expect(published.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
  });
});
