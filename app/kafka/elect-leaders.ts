/**
 * Preferred-leader election (Kafka's ElectLeaders request, version 1), which kafkajs does not offer.
 *
 * Why it is needed: a reassignment changes a partition's replica list, but its leader moves only when the
 * leader left the list; a partition whose new first replica is another broker keeps its old leader until the
 * controller's periodic check (every 5 minutes by default, and only past a 10 % imbalance) elects the
 * preferred one. Electing right after the reassignment makes the spread the plan chose take effect at once.
 *
 * How: through kafkajs's own connection to a broker (the same TLS and SASL/IAM login as every other request),
 * with this module encoding the request and decoding the response. kafkajs keeps the cluster behind a private
 * symbol; it is looked up by its description and a missing one fails with a clear error (kafkajs is pinned).
 */
import type { Kafka } from "kafkajs";

const electLeadersApiKey = 43;
const electLeadersVersion = 1;
const preferredElection = 0;
/** Kafka error codes an election answers with that are not failures. */
const electionNotNeeded = 84;
/** The preferred leader is not in sync yet: retried by the caller's wait. */
export const preferredLeaderNotAvailable = 80;

export interface ElectionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

interface RawBroker {
  connectionPool: { send(protocol: unknown): Promise<unknown> };
}
interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  findControllerBroker(): Promise<RawBroker>;
}

/** A byte buffer kafkajs's request framing accepts in place of its Encoder (it reads `buf` and `buffer`). */
const asEncoder = (bytes: Buffer) => ({ buf: bytes, buffer: bytes });

const int8 = (n: number) => Buffer.from([n & 0xff]);
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const string = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s, "utf8")]);

/** ElectLeaders v1: election_type INT8, [topic STRING [partition INT32]], timeout_ms INT32. */
export function encodeElectLeaders(partitions: ReadonlyMap<string, readonly number[]>, timeoutMs: number): Buffer {
  const topics = [...partitions].map(([topic, ids]) => Buffer.concat([string(topic), int32(ids.length), ...ids.map(int32)]));
  return Buffer.concat([int8(preferredElection), int32(topics.length), ...topics, int32(timeoutMs)]);
}

/** ElectLeaders v1 response: throttle INT32, error INT16, [topic STRING [partition INT32, error INT16, message NULLABLE_STRING]]. */
export function decodeElectLeaders(payload: Buffer): { errorCode: number; results: ElectionResult[] } {
  let at = 0;
  const readInt16 = () => ((at += 2), payload.readInt16BE(at - 2));
  const readInt32 = () => ((at += 4), payload.readInt32BE(at - 4));
  const readString = (): string | null => {
    const n = readInt16();
    if (n < 0) return null;
    at += n;
    return payload.toString("utf8", at - n, at);
  };
  readInt32(); // throttle time
  const errorCode = readInt16();
  const results: ElectionResult[] = [];
  for (let t = readInt32(); t > 0; t--) {
    const topic = readString() ?? "";
    for (let p = readInt32(); p > 0; p--) {
      const partition = readInt32();
      const code = readInt16();
      results.push({ topic, partition, errorCode: code, errorMessage: readString() });
    }
  }
  return { errorCode, results };
}

function createCluster(kafka: Kafka): RawCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const create = key === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[key];
  if (typeof create !== "function") {
    throw new Error(
      "kafkajs: its private createCluster was not found (kafkajs changed?); preferred-leader election needs its broker connections",
    );
  }
  return (create as (o: object) => RawCluster)({});
}

/**
 * Asks the controller to make each given partition's first replica its leader. Returns the partitions that
 * did not get it (election not needed is success), with Kafka's error code and message.
 */
export async function electPreferredLeaders(
  kafka: Kafka,
  partitions: ReadonlyMap<string, readonly number[]>,
  timeoutMs = 30_000,
): Promise<ElectionResult[]> {
  if (partitions.size === 0) return [];
  const cluster = createCluster(kafka);
  await cluster.connect();
  try {
    await cluster.refreshMetadata();
    const broker = await cluster.findControllerBroker();
    const payload = encodeElectLeaders(partitions, timeoutMs);
    const response = (await broker.connectionPool.send({
      request: {
        apiKey: electLeadersApiKey,
        apiVersion: electLeadersVersion,
        apiName: "ElectLeaders",
        encode: () => Promise.resolve(asEncoder(payload)),
      },
      response: { decode: (raw: Buffer) => Promise.resolve(decodeElectLeaders(raw)), parse: (d: unknown) => Promise.resolve(d) },
      requestTimeout: timeoutMs + 10_000,
    })) as ReturnType<typeof decodeElectLeaders>;
    if (response.errorCode !== 0) throw new Error(`ElectLeaders failed with Kafka error code ${response.errorCode}`);
    return response.results.filter((r) => r.errorCode !== 0 && r.errorCode !== electionNotNeeded);
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}
