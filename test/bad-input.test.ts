/**
 * Bad input across the kit's entry points, in one table, each called in-process (no CLI processes, no CDK CLI):
 * the size context (cdk/size/size-input.ts) and the whole CDK context (cdk/kit-input.ts), the app's settings
 * (app/config.ts), synth:k8s's flags (charts/synth.ts main), `npm run local`'s flags (scripts/local.ts) and the
 * experiment CLI's --stages (scripts/experiment/stage-list.ts; the rest of that CLI parses at import and is
 * covered by its process tests). Each row must be refused with a message that names the field or flag given
 * and says what is allowed (or, for an unknown key or flag, names the closest known one).
 *
 * Then hostile records, as a producer, a corrupt broker or path would send them: each is refused with its
 * reason or contained (one placeholder, a saturated count, a well-formed cut, a sampling decision of our own),
 * never a merged key, a loop, a throw or a load the sender chooses.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, describe, expect, it, vi } from "vitest";
import { parseDetectorConfig, parseLoadgenConfig } from "../app/config.ts";
import { main as synthK8s, usageErrorExitCode } from "../charts/synth.ts";
import { kitInputFromContext } from "../cdk/kit-input.ts";
import { parseSizeInput } from "../cdk/size/size-input.ts";
import { parseStageList } from "../scripts/experiment/stage-list.ts";
import { parseLocalArgs } from "../scripts/local.ts";
import { cusumStep, maxRunLength } from "../app/detector/cusum.ts";
import { deadLetterBounds, deadLetterHeaders, deadLetterMessage } from "../app/events/dead-letter.ts";
import { decodeEvent, encodeEvent } from "../app/events/event-codec.ts";
import { copyHeaders } from "../app/events/record-headers.ts";
import { samplerFor, startConsumerSpan } from "../app/tracing.ts";
import { goodEvent } from "../scripts/chaos/malformed-records.ts";
import { batch, decodeMessages, fetchedMessages, withLength } from "./app/kafkajs-batches.ts";

const admin = "arn:aws:iam::123456789012:role/KitAdmin";
const out = mkdtempSync(join(tmpdir(), "bad-input-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** synth:k8s in-process: its stderr and exit status; nothing may be written for a refused input. */
function synth(args: readonly string[]): string {
  const errors: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  const before = process.exitCode;
  try {
    synthK8s(["--out", out, ...args]);
    const code = process.exitCode;
    if (code !== usageErrorExitCode) return `accepted (exit ${String(code)})`;
    throw new Error(errors.join("\n"));
  } finally {
    process.exitCode = before;
    spy.mockRestore();
    log.mockRestore();
  }
}

interface Row {
  readonly entry: string;
  readonly input: string;
  readonly run: () => unknown;
  /** What the message must name: the field or flag as given. */
  readonly names: string;
  /** How it must say what is allowed. */
  readonly allowed: RegExp;
}

const allowedWord = /allowed:/;
const suggestion = /did you mean/i;

const size = (raw: Record<string, unknown>, names: string, allowed = allowedWord): Row => ({
  entry: "size context",
  input: JSON.stringify(raw),
  run: () => parseSizeInput(raw),
  names,
  allowed,
});
const kit = (raw: Record<string, unknown>, names: string, allowed = allowedWord): Row => ({
  entry: "CDK context",
  input: JSON.stringify(raw),
  run: () => kitInputFromContext({ preset: "stage-3", clusterAdminArn: admin, ...raw }),
  names,
  allowed,
});
const detector = (env: Record<string, string>): Row => ({
  entry: "detector settings",
  input: JSON.stringify(env),
  run: () => parseDetectorConfig({ env }),
  names: `env ${Object.keys(env)[0]!}`,
  allowed: allowedWord,
});
const loadgen = (env: Record<string, string>): Row => ({
  entry: "load generator settings",
  input: JSON.stringify(env),
  run: () => parseLoadgenConfig({ env }),
  names: `env ${Object.keys(env)[0]!}`,
  allowed: allowedWord,
});
const synthRow = (args: string[], names: string, allowed = allowedWord): Row => ({
  entry: "synth:k8s",
  input: args.join(" "),
  run: () => synth(args),
  names,
  allowed,
});
const local = (args: string[], allowed = allowedWord): Row => ({
  entry: "npm run local",
  input: args.join(" "),
  run: () => parseLocalArgs(args),
  names: args[0]!,
  allowed,
});
const stages = (spec: string, target: "aws" | "local", allowed = allowedWord): Row => ({
  entry: `experiment --target ${target}`,
  input: `--stages ${spec}`,
  run: () => parseStageList(spec, target, "bad-input"),
  names: "--stages",
  allowed,
});

const rows: readonly Row[] = [
  size({ cassandraNodes: "0x10" }, "cassandraNodes"),
  size({ cassandraNodes: "1e1" }, "cassandraNodes"),
  size({ cassandraNodes: " 6 " }, "cassandraNodes"),
  size({ cassandraNodes: "016" }, "cassandraNodes"),
  size({ cassandraNodes: "2" }, "cassandraNodes"),
  size({ cassandraNodes: "49" }, "cassandraNodes"),
  size({ cassandraNodes: "NaN" }, "cassandraNodes"),
  size({ preset: "stage-5" }, "preset"),
  size({ preset: "stage-3", kafkaBrokers: "4" }, "kafkaBrokers"),
  size({ preset: "stage-3", cassandraInstanceType: "i3.huge" }, "cassandraInstanceType"),
  size({ preset: "stage-3", region: "moon-1" }, "region"),
  size({ preset: "stage-3", availabilityZones: "us-east-1a,us-east-1b" }, "availabilityZones"),
  size({ preset: "stage-3", availabilityZones: "us-east-1a,us-east-1b,eu-west-1c" }, "availabilityZones"),
  size({ preset: "stage-3", experimentId: "Exp_1" }, "experimentId"),
  size({ preset: "stage-3", cassandraNode: "6" }, "cassandraNode", suggestion),
  size({ preset: "stage-3", spatialStrategy: "kdtree" }, 'spatialStrategy = "kdtree"', /allowed: one of off, geohash, sai/),
  size({ preset: "stage-3", spatialStrategy: "SAI" }, 'spatialStrategy = "SAI"', /allowed: one of off, geohash, sai/),
  size({ preset: "stage-3", spatialStrategy: 3 }, "spatialStrategy = 3", /allowed: one of off, geohash, sai/),
  size({ preset: "stage-3", spatialWorkload: "drones" }, 'spatialWorkload = "drones"', /allowed: off or hotspots/),
  kit({ spatialStrategy: "rtree" }, 'spatialStrategy = "rtree"', /allowed: one of off, geohash, sai/),
  kit({ clusterAdminArn: "arn:aws:sts::123456789012:assumed-role/KitAdmin/session" }, "clusterAdminArn"),
  kit({ clusterAdminArn: "KitAdmin" }, "clusterAdminArn"),
  kit({ apiAccessCidrs: "0.0.0.0/0" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "203.0.113.7/33" }, "apiAccessCidrs"),
  kit({ apiAccessCidrs: "203.0.113.7" }, "apiAccessCidrs"),
  kit({ clusterAdminArns: admin }, "clusterAdminArns", suggestion),
  detector({ CASSANDRA_LOCAL_DC: "dc1': 1}; DROP KEYSPACE x; --" }),
  detector({ CASSANDRA_LOCAL_DC: "dc 1" }),
  detector({ CASSANDRA_CONTACT_POINTS: "127.0.0.1:99999" }),
  detector({ KAFKA_BROKERS: "127.0.0.1:9092,b2:65536" }),
  detector({ METRICS_PORT: "70000" }),
  detector({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:65536" }),
  detector({ METRICS_PORT: "0x1f90" }),
  detector({ DETECTOR_CONCURRENCY: "1e3" }),
  detector({ DETECTOR_CONCURRENCY: "" }),
  detector({ TRACING_SAMPLE_RATIO: "abc" }),
  detector({ CASSANDRA_KEYSPACE: "ks; DROP" }),
  detector({ KAFKA_AUTH: "scram" }),
  { ...detector({ CASSANDRA_USERNAME: "detector" }), names: "setting cassandraUsername" },
  loadgen({ LOADGEN_RATE: "NaN" }),
  loadgen({ LOADGEN_KEYS: "0x10" }),
  loadgen({ KAFKA_BROKERS: "b1:0" }),
  loadgen({ LOADGEN_KEY_PREFIX: "a b" }),
  synthRow(["--tracing-sample-ratio", "abc"], "--tracing-sample-ratio"),
  synthRow(["--tracing-sample-ratio", "1e-3"], "--tracing-sample-ratio"),
  synthRow(["--cassandraNodes", "0x10"], "cassandraNodes"),
  synthRow(["--cassandraNodes", " 6"], "cassandraNodes"),
  synthRow(["--cassandra-nodes", "6"], "--cassandra-nodes", suggestion),
  synthRow(["--preset", "stage-3", "--spatialStrategy", "quadtree"], "spatialStrategy", /allowed: one of off, geohash, sai/),
  synthRow(["--kafka-bootstrap", "b1:70000", "--preset", "stage-3"], "--kafka-bootstrap"),
  synthRow(["--cassandra-local-dc", "dc'1", "--preset", "stage-3"], "--cassandra-local-dc"),
  synthRow(["--kafka-auth", "aws-iam", "--preset", "stage-3"], "--aws-region"),
  local(["--tracing-sample-ratio", "abc"]),
  local(["--tracing-sample-ratio", "NaN"]),
  local(["--rate", "0x10"]),
  local(["--rate", "1e3"]),
  local(["--rate", " 100"]),
  local(["--rate", ""]),
  local(["--keys", "1.5"]),
  local(["--keys", "-5"]),
  local(["--partitions", "0"]),
  local(["--detectors", "1000"]),
  local(["--concurrency", "9999999"]),
  local(["--duration", "0"]),
  local(["--spike-probability", "0.9"]),
  local(["--cassandra-connections-per-host", "Infinity"]),
  local(["--key-distribution", "pareto"], /allowed: uniform or zipf/),
  local(["--raet", "5"], suggestion),
  local(["--spatial", "kdtree"], /allowed: one of off, geohash, sai/),
  local(["--detector-memory-mib", "32"], /allowed: an integer from 64 to/),
  local(["--detector-memory-mib", "512Mi"]),
  local(["--detector-heap", "auto"], /allowed: from-limit or node-default/),
  stages("3,x", "aws"),
  stages("3,0x6", "aws"),
  stages("3,100", "aws"),
  stages("", "local"),
  stages("1,1", "local"),
];

type Verdict = "clear" | "unclear" | "accepted";
const verdicts: { row: Row; verdict: Verdict; message: string }[] = [];

function judge(row: Row): { verdict: Verdict; message: string } {
  try {
    const result = row.run();
    return { verdict: "accepted", message: typeof result === "string" ? result : "accepted" };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { verdict: message.includes(row.names) && row.allowed.test(message) ? "clear" : "unclear", message };
  }
}

describe("bad input is refused, naming the field or flag and what is allowed", () => {
  it.each(rows.map((row) => [row.entry, row.input, row] as const))("%s: %s", (_entry, _input, row) => {
    const { verdict, message } = judge(row);
    verdicts.push({ row, verdict, message });
    expect(verdict, message).toBe("clear");
  });

  afterAll(() => {
    const count = (v: Verdict) => verdicts.filter((x) => x.verdict === v).length;
    console.log(`bad input: ${verdicts.length} tried, ${count("clear")} clear, ${count("unclear")} unclear, ${count("accepted")} accepted`);
  });
});

describe("hostile records are refused with a reason or contained", () => {
  const mark = Buffer.from([0xef, 0xbb, 0xbf]);
  /** An event whose id bytes are `id` (the encoder refuses a mark: spliced in), sent with those bytes as key. */
  const withIdBytes = (id: Buffer) => {
    const value = encodeEvent(goodEvent({ id: "x".repeat(id.length) }));
    id.copy(value, 29 + Buffer.byteLength(goodEvent().producer));
    return decodeEvent(id, value, 1024);
  };

  it.each([
    ["a leading byte-order mark (decoded away, it merged the key with the one without)", Buffer.concat([mark, Buffer.from("ab")])],
    ["a byte-order mark inside", Buffer.concat([Buffer.from("a"), mark, Buffer.from("b")])],
    ["an id that is only a byte-order mark (decoded away, it passed as non-empty)", mark],
  ])("refuses an entity id with %s, naming the field and what is allowed", (_case, id) => {
    const d = withIdBytes(id);
    expect(d).toMatchObject({ ok: false, reason: "byte-order-mark" });
    if (!d.ok) expect(d.detail).toMatch(/^entity id .*U\+FEFF.*allowed: ids without U\+FEFF$/);
  });

  it.each([-12, -(2 ** 31), 0, -1, 48, 2 ** 31 - 1])(
    "decodes a fetch holding a batch of length %i without a loop or a throw, offsets increasing, at most one placeholder",
    async (length) => {
      const decoded = await decodeMessages(fetchedMessages(await batch(0, 2), withLength(await batch(2, 2), length), await batch(4, 2)));
      const offsets = decoded.map((r) => Number(r.offset));
      expect(offsets.slice(0, 2)).toEqual([0, 1]);
      expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
      expect(decoded.filter((r) => r.undecodable !== undefined).length).toBe(length === 2 ** 31 - 1 ? 0 : 1);
    },
  );

  it("saturates a CUSUM run count at what the stored state holds", () => {
    const history = Array.from({ length: 50 }, (_, i) => 10 + (i % 2 === 0 ? 1 : -1));
    const { sums } = cusumStep(history, 10.7, { upper: 0.5, lower: 0, upperRun: Number.MAX_SAFE_INTEGER, lowerRun: 0 });
    expect(sums.upperRun).toBe(maxRunLength);
  });

  it("cuts a dead letter's detail without splitting a surrogate pair", () => {
    const source = { topic: "events", partition: 0, offset: 1, key: null, value: null, headers: copyHeaders({}) };
    const detail = `${"d".repeat(deadLetterBounds.detailChars - 1)}😀`;
    const cut = String(copyHeaders(deadLetterMessage(source, "bad-label", detail).headers)[deadLetterHeaders.detail]);
    expect(cut.isWellFormed()).toBe(true);
    expect(cut).toBe("d".repeat(deadLetterBounds.detailChars - 1));
  });

  it("does not let a producer's sampled traceparent have its records traced", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ sampler: samplerFor(1e-9), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracing = { enabled: true, tracer: provider.getTracer("bad-input"), shutdown: () => provider.shutdown() };
    const headers = { traceparent: "00-00000000000000000000000000000001-00f067aa0ba902b7-01" };
    for (let i = 0; i < 1000; i++) startConsumerSpan(tracing, "events process", {}, headers).end();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await provider.shutdown();
  });
});
