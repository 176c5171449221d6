import { randomBytes } from 'node:crypto';
import { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { decodeGatewayHeartbeat, GatewayHeartbeat, JsonLogger, TOPICS } from '@apim/events';

/** States in which a gateway serves traffic (its /readyz answers 200): the ones that share a DC's rate limits. */
const SERVING = new Set(['ready', 'degraded']);

/**
 * Counts the gateways of this DC that serve traffic, this one included, from
 * the heartbeats on the DC's `apim.heartbeats`, so that each can enforce its
 * share of a policy (a rate over N gateways, each taking 1/N of it, as Tyk's
 * distributed rate limiter does, with no shared counter on the request path).
 *
 * A gateway counts while its last heartbeat said it was serving and is at
 * most `timeoutMs` older than the last answer from Kafka: a gateway that
 * stops says so in its last heartbeat and leaves the count at once; one that
 * dies leaves it after `timeoutMs`. While Kafka does not answer, the count
 * stays as it was rather than falling to 1 (which would let every gateway
 * admit the whole rate).
 */
export class PeerGateways {
  /** Other gateways of this DC -> when their last serving heartbeat was written (ms). */
  private readonly serving = new Map<string, number>();
  /** When Kafka last answered (ms), or when counting started. */
  private lastAnswerAt: number;
  private counted = 1;

  constructor(
    private readonly options: {
      dc: string;
      gatewayId: string;
      timeoutMs: number;
      /** Called with the new count whenever it changes. */
      onChange: (gateways: number) => void;
      now?: () => number;
    },
  ) {
    this.lastAnswerAt = this.now();
  }

  /** Gateways of this DC that serve, this one included (at least 1). */
  get count(): number {
    return this.counted;
  }

  /** A heartbeat from the topic; others' kinds and DCs, and this gateway's own, are ignored. */
  observe(heartbeat: GatewayHeartbeat): void {
    if (heartbeat.dc !== this.options.dc || heartbeat.gatewayId === this.options.gatewayId) return;
    const at = Math.min(Date.parse(heartbeat.at), this.now());
    const known = this.serving.get(heartbeat.gatewayId);
    if (known !== undefined && known > at) return; // an older heartbeat read late
    if (SERVING.has(heartbeat.state)) this.serving.set(heartbeat.gatewayId, at);
    else this.serving.delete(heartbeat.gatewayId);
    this.recount();
  }

  /** Kafka answered a fetch (with records or not). */
  answered(): void {
    this.lastAnswerAt = this.now();
    this.recount();
  }

  /** Drops gateways silent for longer than the timeout, measured up to Kafka's last answer. */
  recount(): void {
    const since = this.lastAnswerAt - this.options.timeoutMs;
    for (const [gatewayId, at] of this.serving) if (at < since) this.serving.delete(gatewayId);
    const count = 1 + this.serving.size;
    if (count === this.counted) return;
    this.counted = count;
    this.options.onChange(count);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/**
 * Feeds a PeerGateways from the DC's `apim.heartbeats`, read from
 * `timeoutMs` back (the heartbeats that still count) by a consumer group of
 * this process alone, removed at stop. Retries with back-off while Kafka is
 * down.
 */
export class PeerHeartbeats {
  private consumer?: Consumer;
  private admin?: Admin;
  private groupId?: string;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private attempt = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly peers: PeerGateways,
    private readonly timeoutMs: number,
    private readonly logger: JsonLogger,
  ) {}

  start(): void {
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.disconnect();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.connect();
      this.attempt = 0;
    } catch (error) {
      await this.disconnect();
      if (this.stopped) return;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(this.attempt++, 6));
      this.logger.warn('gateway heartbeats unreadable; rate limits keep the last count of gateways', {
        error: (error as Error).message,
        retryInMs: delay,
      });
      this.retry = setTimeout(() => void this.run(), delay);
      this.retry.unref();
    }
  }

  private async connect(): Promise<void> {
    const topic = TOPICS.heartbeats;
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.groupId = `gateway-peers-${randomBytes(6).toString('hex')}`;
    const from = await this.admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - this.timeoutMs);
    await this.admin.setOffsets({ groupId: this.groupId, topic, partitions: from.map(({ partition, offset }) => ({ partition, offset })) });
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxWaitTimeInMs: 1000, sessionTimeout: 30_000 });
    this.consumer = consumer;
    consumer.on(consumer.events.FETCH, () => this.peers.answered());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.stopped) return;
      void this.disconnect().then(() => this.run());
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  private async onBatch({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      const decoded = decodeGatewayHeartbeat(message.value);
      if (decoded?.ok) this.peers.observe(decoded.heartbeat);
    }
  }

  private async disconnect(): Promise<void> {
    const { consumer, admin, groupId } = this;
    this.consumer = this.admin = this.groupId = undefined;
    await consumer?.disconnect().catch(() => undefined);
    if (admin && groupId) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}
