import { ICustomPartitioner, Kafka, Message, Partitioners, Producer } from 'kafkajs';
import { JsonLogger } from '../runtime/logger';

/** Keys whose partition is remembered, per topic and partition count; past this the memory starts again. */
const REMEMBERED_KEYS = 10_000;

/**
 * kafkajs' default partitioner (murmur2 of the key, as Java clients), with the
 * partition of each string key remembered: kafkajs computes murmur2 with 64-bit
 * BigInt arithmetic, ~8 % of a gateway's CPU when every request sends a usage
 * record keyed by its API. The partition is the same; only the work is saved.
 */
export const RememberingDefaultPartitioner: ICustomPartitioner = () => {
  const partitioner = Partitioners.DefaultPartitioner();
  const remembered = new Map<string, number>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (typeof message.key !== 'string' || message.partition != null) return partitioner(args);
    const name = `${topic}\u0000${partitionMetadata.length}\u0000${message.key}`;
    let partition = remembered.get(name);
    if (partition === undefined) {
      partition = partitioner(args);
      if (remembered.size >= REMEMBERED_KEYS) remembered.clear();
      remembered.set(name, partition);
    }
    return partition;
  };
};

/**
 * Records sent in one request at most. A request is encoded in one go on the
 * event loop, between the gateway's requests: 5,000 usage records held them
 * up ~10 ms (the gateway's p99 showed it); 1,000 take ~2 ms.
 */
const BATCH = 1000;

/**
 * Sends telemetry (usage records, heartbeats, dead letters) to
 * Kafka in batches, off the request path. Telemetry is not an event: when
 * Kafka is down the buffer keeps the newest `maxBuffered` records and counts
 * what it had to drop, rather than growing until the process dies.
 */
export class TelemetryProducer {
  private producer?: Producer;
  private connected = false;
  private buffer: { topic: string; message: Message }[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: JsonLogger,
    private readonly options: { flushIntervalMs: number; maxBuffered: number } = { flushIntervalMs: 250, maxBuffered: 50_000 },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sendOnce(false), this.options.flushIntervalMs);
    this.timer.unref();
  }

  enqueue(topic: string, message: Message): void {
    this.buffer.push({ topic, message });
    // The oldest go in bulk, a tenth of the limit at a time: one at a time would move the whole buffer per record.
    if (this.buffer.length >= this.options.maxBuffered + Math.ceil(this.options.maxBuffered / 10)) {
      const excess = this.buffer.length - this.options.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Sends everything buffered (after a send in progress); a failure keeps it for the next try. */
  async flush(): Promise<void> {
    await this.flushing;
    await this.sendOnce(true);
  }

  /**
   * One send at a time: request after request while `everything` or while a
   * full request's worth waits; the rest goes with the next tick, so that a
   * steady flow is sent in a few large requests rather than many small ones.
   */
  private sendOnce(everything: boolean): Promise<void> {
    this.flushing ??= this.send(everything).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(graceMs = 3000): Promise<void> {
    clearInterval(this.timer);
    await Promise.race([this.flush(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async send(everything: boolean): Promise<void> {
    if (this.buffer.length === 0) return;
    try {
      if (!this.connected) {
        this.producer ??= this.kafka.producer({
          allowAutoTopicCreation: false,
          createPartitioner: RememberingDefaultPartitioner,
          retry: { retries: 2 },
        });
        await this.producer.connect();
        this.connected = true;
      }
      do {
        const batch = this.buffer.slice(0, BATCH);
        const byTopic = new Map<string, Message[]>();
        for (const { topic, message } of batch) {
          const messages = byTopic.get(topic);
          if (messages) messages.push(message);
          else byTopic.set(topic, [message]);
        }
        await this.producer!.sendBatch({ acks: 1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        // Records dropped while this was sent were the oldest, possibly some of this batch: remove what is left of it.
        this.buffer.splice(0, this.buffer.lastIndexOf(batch[batch.length - 1], batch.length - 1) + 1);
        this.sent += batch.length;
      } while (this.buffer.length >= (everything ? 1 : BATCH));
    } catch (error) {
      this.connected = false;
      this.logger.debug('telemetry not sent yet; will retry', { error: (error as Error).message, buffered: this.buffer.length });
    }
  }
}
