import { Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { encodeEvent, JsonLogger, PollingLoop, TOPICS } from '@apim/events';
import { Checkpoints } from '../event-store/checkpoints';
import { EXPECT_COMMITTED_MS, Queryable, StoreCheckpoint, toEnvelope } from '../event-store/event-store';
import { PostgresEventStore } from '../event-store/postgres-event-store';

export interface OutboxRelayOptions {
  db: DataSource;
  producer: Producer;
  dc: string;
  logger: JsonLogger;
  batchSize?: number;
  /** Wait between polls when the store has nothing new. */
  idleMs?: number;
  topic?: string;
}

/**
 * Publishes this DC's own events to `apim.events` in the store's commit-safe
 * order, key = stream id, through an idempotent producer, and checkpoints in
 * PostgreSQL after each acknowledged batch. At-least-once: a crash between the
 * send and the checkpoint republishes that batch, which consumers ignore by
 * (stream, version). While Kafka is down, appends go on and the relay retries
 * the same batch with back-off. With several control planes on one database,
 * one relays at a time: each batch runs in a transaction that must win an
 * advisory lock, and reads the checkpoint under it.
 */
/** Advisory lock key of the relay's leadership ('aprl' in ASCII). */
const RELAY_LOCK_KEY = 0x6170726c;

export class OutboxRelay {
  static readonly CHECKPOINT = 'outbox-relay';
  private readonly store: PostgresEventStore;
  private readonly checkpoints: Checkpoints;
  private readonly loop: PollingLoop;
  private connected = false;
  published = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.store = new PostgresEventStore(options.db);
    this.checkpoints = new Checkpoints(options.db);
    this.loop = new PollingLoop({
      name: 'outbox relay',
      logger: options.logger,
      idleMs: options.idleMs,
      step: () => this.runOnce(),
    });
    // kafkajs reconnects a connected producer by itself, but never one that failed to connect at first.
    options.producer.on(options.producer.events.CONNECT, () => (this.connected = true));
    options.producer.on(options.producer.events.DISCONNECT, () => (this.connected = false));
  }

  get lastError(): string | null {
    return this.loop.lastError;
  }

  /** Connected to Kafka, and the last batch (if any) went through: not the case before the first connection. */
  get kafkaUp(): boolean {
    return this.connected && this.loop.lastError === null;
  }

  start(): void {
    this.loop.start();
  }

  /** New events were committed: publish them now rather than at the next poll. */
  wake(): void {
    // Committed, but maybe not yet visible to the store's commit-safe reads (an older transaction still runs).
    this.loop.wake(EXPECT_COMMITTED_MS);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /**
   * Publishes one batch; returns how many events it published (0 also when
   * another control plane holds the relay lock). The transaction writes only
   * the checkpoint, at the end, so it holds back no reader of the store while
   * it waits for Kafka.
   */
  async runOnce(): Promise<number> {
    // Connected before anything else, outside the transaction: readiness reports Kafka as it is even for a
    // control plane with nothing to publish (restarted, idle, or the standby of another one holding the lock).
    if (!this.connected) await this.options.producer.connect();
    return this.options.db.transaction(async (manager) => {
      const tx = manager as unknown as Queryable;
      const [{ leader }] = (await tx.query(`SELECT pg_try_advisory_xact_lock($1) AS leader`, [RELAY_LOCK_KEY])) as { leader: boolean }[];
      if (!leader) return 0;
      const checkpoint: StoreCheckpoint = await this.checkpoints.get(OutboxRelay.CHECKPOINT, tx);
      const events = await this.store.readAll(checkpoint, this.options.batchSize ?? 500, { originDc: this.options.dc }, tx);
      if (events.length === 0) return 0;
      await this.options.producer.send({
        topic: this.options.topic ?? TOPICS.events,
        acks: -1,
        messages: events.map((event) => encodeEvent(toEnvelope(event))),
      });
      await this.checkpoints.save(OutboxRelay.CHECKPOINT, PostgresEventStore.checkpointOf(events[events.length - 1]), tx);
      this.published += events.length;
      return events.length;
    });
  }
}
