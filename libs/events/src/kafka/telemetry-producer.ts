import { Kafka, Message, Partitioners, Producer } from 'kafkajs';
import { JsonLogger } from '../runtime/logger';

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
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  enqueue(topic: string, message: Message): void {
    this.buffer.push({ topic, message });
    if (this.buffer.length > this.options.maxBuffered) {
      const excess = this.buffer.length - this.options.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Sends what is buffered; a failure keeps it for the next try. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(graceMs = 3000): Promise<void> {
    clearInterval(this.timer);
    await Promise.race([this.flush(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    await this.producer?.disconnect().catch(() => undefined);
  }

  private async send(): Promise<void> {
    if (this.buffer.length === 0) return;
    try {
      if (!this.connected) {
        this.producer ??= this.kafka.producer({
          allowAutoTopicCreation: false,
          createPartitioner: Partitioners.DefaultPartitioner,
          retry: { retries: 2 },
        });
        await this.producer.connect();
        this.connected = true;
      }
      const batch = this.buffer.slice(0, 5000);
      const byTopic = new Map<string, Message[]>();
      for (const { topic, message } of batch) {
        const messages = byTopic.get(topic);
        if (messages) messages.push(message);
        else byTopic.set(topic, [message]);
      }
      await this.producer!.sendBatch({ acks: 1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      this.buffer.splice(0, batch.length);
      this.sent += batch.length;
    } catch (error) {
      this.connected = false;
      this.logger.debug('telemetry not sent yet; will retry', { error: (error as Error).message, buffered: this.buffer.length });
    }
  }
}
