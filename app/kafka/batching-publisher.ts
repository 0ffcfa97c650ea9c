/**
 * Publishes records in batches: each `publish()` resolves when the batch holding its record is acknowledged
 * (acks from all in-sync replicas). One produce request per record would cost more CPU than the check itself;
 * a short linger collects what the concurrent checks publish in the meantime.
 *
 * One record must not fail the others: a batch is cut at `maxBatchBytes` (under the topics' max.message.bytes),
 * and when the broker refuses a batch for a reason that is not transient (a record too large, an invalid one),
 * each of its records is sent again on its own, so only the offending one is rejected.
 */
import { CompressionTypes, type Message, type Producer } from "kafkajs";
import { isTransientKafkaError } from "./kafka-client.ts";

interface Pending {
  readonly topic: string;
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class BatchingPublisher {
  readonly #producer: Producer;
  readonly #lingerMs: number;
  readonly #maxBatch: number;
  readonly #maxBatchBytes: number;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | null = null;

  /** `maxBatchBytes`: where a batch is cut; under the max.message.bytes of every topic it is given. */
  constructor(producer: Producer, options: { maxBatchBytes: number; lingerMs?: number; maxBatch?: number }) {
    this.#producer = producer;
    this.#lingerMs = options.lingerMs ?? 2;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxBatchBytes = options.maxBatchBytes;
  }

  publish(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, message, resolve, reject });
      this.#queuedBytes += messageBytes(message);
      if (this.#queue.length >= this.#maxBatch || this.#queuedBytes >= this.#maxBatchBytes) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.#lingerMs);
    });
  }

  /** Send what is queued now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#send(batch);
  }

  #send(batch: Pending[]): void {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    this.#producer
      .sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => {
          if (batch.length > 1 && !isTransientKafkaError(err)) for (const p of batch) this.#send([p]);
          else batch.forEach((p) => p.reject(err));
        },
      );
  }
}

/** About the bytes a message takes in a batch (key, value, header names and values, ~20 bytes of framing). */
function messageBytes(m: Message): number {
  let bytes = 20 + (m.key == null ? 0 : Buffer.byteLength(m.key)) + (m.value == null ? 0 : Buffer.byteLength(m.value));
  for (const [name, value] of Object.entries(m.headers ?? {}))
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) bytes += Buffer.byteLength(name) + Buffer.byteLength(v);
  return bytes;
}
