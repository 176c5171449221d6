import { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { decodeEvent, DlqWriter, ensureTopics, EventEnvelope, JsonLogger, PartitionOffsets, StreamOrdering, TOPICS } from '@apim/events';
import { PostgresEventStore } from '../event-store/postgres-event-store';
import { Queryable } from '../event-store/event-store';

interface Located {
  envelope: EventEnvelope;
  topic: string;
  partition: number;
  offset: string;
}

export interface EventImporterOptions {
  db: Queryable;
  kafka: Kafka;
  /** Producer for the DLQ. */
  producer: Producer;
  dc: string;
  /** Mirrored topics to import, e.g. `dc2.apim.events`. */
  topics: string[];
  logger: JsonLogger;
  groupId?: string;
  /** Called for an event whose stream already holds another event at its version. */
  onConflict?: (envelope: EventEnvelope) => Promise<void> | void;
}

/**
 * Appends the events of other DCs (their mirrored topics) to this DC's store,
 * unchanged and idempotently, so that every DC holds the whole history.
 * Per-stream order comes from the shared StreamOrdering helper: an event whose
 * predecessor has not arrived (it may travel on another DC's topic) is held,
 * and the committed offset never passes it.
 */
export class EventImporter {
  private readonly store: PostgresEventStore;
  private readonly ordering: StreamOrdering<Located & { streamId: string; version: number; eventId: string }>;
  private readonly offsets = new PartitionOffsets();
  private readonly dlq: DlqWriter;
  private consumer?: Consumer;
  private waitTimer?: NodeJS.Timeout;
  imported = 0;
  duplicates = 0;
  conflicts = 0;
  deadLettered = 0;

  constructor(private readonly options: EventImporterOptions) {
    this.store = new PostgresEventStore(options.db);
    this.dlq = new DlqWriter(options.producer, `importer-${options.dc}`);
    this.ordering = new StreamOrdering({
      currentVersion: (streamId) => this.store.streamVersion(streamId),
      longWaitMs: 10_000,
      onLongWait: (wait) => options.logger.warn('importer waits for a missing event', { ...wait }),
    });
  }

  get held(): number {
    return this.ordering.held();
  }

  async start(): Promise<void> {
    if (this.options.topics.length === 0) return;
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [...this.options.topics, TOPICS.dlq]);
    } finally {
      await admin.disconnect();
    }
    this.consumer = this.options.kafka.consumer({
      groupId: this.options.groupId ?? `control-plane-importer-${this.options.dc}`,
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatch: (batch) => this.onBatch(batch) });
    this.waitTimer = setInterval(() => this.ordering.checkWaits(), 5000);
    this.waitTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.waitTimer);
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return;
      await this.onMessage(batch.topic, batch.partition, message);
      this.offsets.markProcessed(batch.topic, batch.partition, message.offset);
      await heartbeat();
    }
    await this.consumer!.commitOffsets(this.offsets.committable());
  }

  private async onMessage(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const decoded = decodeEvent({ value: message.value, headers: message.headers });
    if (!decoded.ok) {
      this.deadLettered++;
      this.options.logger.warn('invalid record sent to the DLQ', { topic, partition, offset: message.offset, reason: decoded.reason });
      await this.dlq.write({
        sourceTopic: topic,
        partition,
        offset: message.offset,
        reason: decoded.reason,
        key: message.key,
        value: message.value,
      });
      return;
    }
    const envelope = decoded.envelope;
    const located = {
      envelope,
      topic,
      partition,
      offset: message.offset,
      streamId: envelope.streamId,
      version: envelope.version,
      eventId: envelope.eventId,
    };
    const ready = await this.ordering.offer(located);
    if (ready.length === 0) {
      if (this.ordering.isHeld(located)) {
        this.offsets.hold(topic, partition, message.offset);
        return;
      }
      // Already at or past this version: a duplicate, or another event at the same version.
      await this.importOne(located);
      return;
    }
    for (const event of ready) {
      await this.importOne(event);
      this.offsets.release(event.topic, event.partition, event.offset);
    }
  }

  private async importOne({ envelope }: Located): Promise<void> {
    const outcome = await this.store.import(envelope);
    if (outcome === 'appended') this.imported++;
    else if (outcome === 'duplicate') this.duplicates++;
    else if (outcome === 'conflict') {
      this.conflicts++;
      this.options.logger.warn('event conflicts with the local stream', {
        streamId: envelope.streamId,
        version: envelope.version,
        eventId: envelope.eventId,
        originDc: envelope.originDc,
      });
      await this.options.onConflict?.(envelope);
    } else {
      throw new Error(
        `stream ${envelope.streamId} is not at version ${envelope.version - 1} although the ordering helper released version ${envelope.version}`,
      );
    }
  }
}
