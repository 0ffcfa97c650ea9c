/**
 * Publishes records in batches: each `publish()` resolves when the batch holding its record is acknowledged
 * (acks from all in-sync replicas). One produce request per record would cost more CPU than the check itself;
 * a short linger collects what the concurrent checks publish in the meantime.
 */
import { CompressionTypes, type Message, type Producer } from "kafkajs";

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
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(producer: Producer, options: { lingerMs?: number; maxBatch?: number } = {}) {
    this.#producer = producer;
    this.#lingerMs = options.lingerMs ?? 2;
    this.#maxBatch = options.maxBatch ?? 1000;
  }

  publish(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ topic, message, resolve, reject });
      if (this.#queue.length >= this.#maxBatch) this.flush();
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
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
  }
}
