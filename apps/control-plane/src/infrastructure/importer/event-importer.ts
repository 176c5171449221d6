import { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import {
  deadLetterOf,
  decodeEvent,
  DlqWriter,
  ensureTopics,
  EventEnvelope,
  isEventOf,
  JsonLogger,
  PartitionOffsets,
  StreamOrdering,
  TOPICS,
} from '@apim/events';
import { PostgresEventStore } from '../event-store/postgres-event-store';
import { ImportOutcome, Queryable } from '../event-store/event-store';
import { onLosingBranch, resolveStreamClash } from './conflicts';
import { Divergence } from './divergence';

/** Who is primary in which epoch, and the write mode: what the importer judges events by. */
type RegionFacts = { primary: string | null; epoch: number; activeActive: boolean };

/** What the importer needs to know of the region: the lock every write takes, and the region read under it. */
export interface RegionLock {
  lockRegion(tx: Queryable, mode: 'write' | 'change-region'): Promise<RegionFacts>;
}

/** A partition's records not read yet, as of its last fetch. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

interface Located {
  envelope: EventEnvelope;
  topic: string;
  partition: number;
  offset: string;
}

export interface EventImporterOptions {
  db: DataSource;
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
  /**
   * The region lock and view (the control plane's WriteGuard). Without it,
   * this importer never judges epochs: it only follows the primary's verdicts.
   */
  region?: RegionLock;
  /** Runs in the transaction that appended an imported event (read-side claims that must commit with it). */
  onAppended?: (envelope: EventEnvelope, tx: Queryable) => Promise<void>;
  /** Runs in a transaction that moved events out of the store: read models built from them must be rebuilt, in the same transaction. */
  onMovedAside?: (tx: Queryable) => Promise<void>;
}

/** How often an importer writes its partitions' lag for `regions`. */
const PROGRESS_INTERVAL_MS = 2000;

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
  private readonly divergence: Divergence;
  /** By topic and partition (see lagRecords). */
  private readonly lag = new Map<string, PartitionLag & { next: bigint }>();
  private consumer?: Consumer;
  private waitTimer?: NodeJS.Timeout;
  private progressTimer?: NodeJS.Timeout;
  imported = 0;
  duplicates = 0;
  conflicts = 0;
  deadLettered = 0;
  fenced = 0;
  movedAside = 0;
  resolvedConflicts = 0;

  constructor(private readonly options: EventImporterOptions) {
    this.store = new PostgresEventStore(options.db);
    this.dlq = new DlqWriter(options.producer, `importer-${options.dc}`);
    this.divergence = new Divergence(this.store, options.dc);
    this.ordering = new StreamOrdering({
      currentVersion: (streamId) => this.store.streamVersion(streamId),
      longWaitMs: 10_000,
      onLongWait: (wait) => options.logger.warn('importer waits for a missing event', { ...wait }),
    });
  }

  get held(): number {
    return this.ordering.held();
  }

  /**
   * Records of each mirror partition not read yet: its high watermark minus
   * the next offset to read, as of the last fetch of that partition. A
   * transaction's commit marker takes an offset and is never delivered: the
   * fetch that passes it alone counts it as read.
   */
  lagRecords(): PartitionLag[] {
    return [...this.lag.values()].map(({ topic, partition, lag }) => ({ topic, partition, lag }));
  }

  /** The next offset to read of each partition this instance has fetched from. */
  nextOffsets(): { topic: string; partition: number; next: bigint }[] {
    return [...this.lag.values()].map(({ topic, partition, next }) => ({ topic, partition, next }));
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
      // A mirror's records are the source DC's committed events, whether or not
      // the replicator's transaction that wrote them has committed yet: one that
      // aborts is written again by the next, and the second copy is a duplicate.
      // Waiting for commit markers only delayed every change (docs/architecture.md).
      readUncommitted: true,
    });
    // After every batch, markers-only ones included (those never reach eachBatch).
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload: { topic, partition, lastOffset, highWatermark } }) => {
      const next = BigInt(lastOffset) + 1n;
      const lag = BigInt(highWatermark) - next;
      this.lag.set(`${topic}\u0000${partition}`, { topic, partition, lag: lag > 0n ? Number(lag) : 0, next });
    });
    // Partitions given to another instance are no longer this one's to report.
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload: { memberAssignment } }) => {
      for (const [key, entry] of this.lag) if (!memberAssignment[entry.topic]?.includes(entry.partition)) this.lag.delete(key);
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatch: (batch) => this.onBatch(batch) });
    this.waitTimer = setInterval(() => this.ordering.checkWaits(), 5000);
    this.waitTimer.unref();
    this.progressTimer = setInterval(() => {
      // For `regions` (any instance answers for the DC); a write that fails leaves the rows to go stale, which `regions` shows.
      this.writeProgress().catch((error: Error) => this.options.logger.debug('importer progress not written', { error: error.message }));
    }, PROGRESS_INTERVAL_MS);
    this.progressTimer.unref();
  }

  /** This instance's partitions' lag, as of their last fetch, into importer_progress. */
  async writeProgress(): Promise<void> {
    const rows = [...this.lag.values()];
    if (rows.length === 0) return;
    await this.options.db.query(
      `INSERT INTO importer_progress (topic, partition, lag, updated_at)
       SELECT topic, partition, lag, now() FROM unnest($1::text[], $2::int[], $3::bigint[]) AS p(topic, partition, lag)
       ON CONFLICT (topic, partition) DO UPDATE SET lag = EXCLUDED.lag, updated_at = EXCLUDED.updated_at`,
      [rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.lag)],
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.waitTimer);
    clearInterval(this.progressTimer);
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
      await this.dlq.write(deadLetterOf(topic, partition, message, decoded.reason));
      return;
    }
    const envelope = decoded.envelope;
    // Judged before ordering: a refused event never becomes the predecessor its successors would wait for.
    if ((await this.inTransaction(envelope, (tx, region) => this.screen(envelope, region, tx))) !== 'import') return;
    const located = {
      envelope,
      topic,
      partition,
      offset: message.offset,
      streamId: envelope.streamId,
      version: envelope.version,
      eventId: envelope.eventId,
    };
    const { ready, held } = await this.ordering.admit(located);
    if (ready.length === 0) {
      if (this.ordering.isHeld(located)) {
        // Only the copy that waits holds its offset; a second copy (a record of an aborted mirror transaction, written again) does not.
        if (held) this.offsets.hold(topic, partition, message.offset);
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
    let moved = 0;
    const outcome = await this.inTransaction(envelope, async (tx, region) => {
      const screened = await this.screen(envelope, region, tx);
      if (screened !== 'import') return screened;
      let outcome: ImportOutcome | 'resolved' = await this.store.import(envelope, tx);
      if (outcome === 'conflict') {
        moved += await this.divergence.supersede(envelope, tx);
        // Active-active: the same stream id created in two DCs; the first claim wins everywhere.
        const clash = moved === 0 && region?.activeActive ? await resolveStreamClash(envelope, tx) : null;
        if (clash) moved += clash.moved;
        if (clash?.winner === 'local') outcome = 'resolved';
        else if (moved > 0) outcome = await this.store.import(envelope, tx);
      }
      if (outcome === 'appended') {
        await this.options.onAppended?.(envelope, tx);
        if (isEventOf(envelope, 'divergence.recorded')) moved += await this.divergence.follow(envelope.payload, tx);
      }
      if (moved > 0) await this.options.onMovedAside?.(tx);
      return outcome;
    });
    if (moved > 0) {
      this.movedAside += moved;
      this.options.logger.warn('events of a fenced epoch moved out of the store', {
        after: envelope.type,
        eventId: envelope.eventId,
        moved,
      });
    }
    if (outcome === 'appended') this.imported++;
    else if (outcome === 'duplicate') this.duplicates++;
    else if (outcome === 'resolved') {
      this.resolvedConflicts++;
      this.options.logger.warn('stream created in two DCs: the first claim (here) wins', {
        streamId: envelope.streamId,
        eventId: envelope.eventId,
        originDc: envelope.originDc,
      });
    } else if (outcome === 'conflict') {
      this.conflicts++;
      this.options.logger.warn('event conflicts with the local stream', {
        streamId: envelope.streamId,
        version: envelope.version,
        eventId: envelope.eventId,
        originDc: envelope.originDc,
      });
      await this.options.onConflict?.(envelope);
    } else if (outcome === 'gap') {
      throw new Error(
        `stream ${envelope.streamId} is not at version ${envelope.version - 1} although the ordering helper released version ${envelope.version}`,
      );
    }
  }

  /**
   * `skip`: already found divergent here. `fenced`: this DC is the primary of
   * a later epoch than the event's and does not hold it, so the event reached
   * it after its promotion: never part of its history, refused and announced.
   * Signing keys are exempt: each DC alone writes its own, even as a standby.
   */
  private async screen(envelope: EventEnvelope, region: RegionFacts | null, tx: Queryable): Promise<'import' | 'skip' | 'fenced'> {
    if (await this.divergence.isListed(envelope.eventId, tx)) return 'skip';
    if (region?.activeActive && (await onLosingBranch(envelope, tx))) return 'skip';
    const judge = region !== null && !region.activeActive && region.primary === this.options.dc;
    if (!judge || envelope.epoch >= region.epoch || envelope.streamType === 'signing-key') return 'import';
    if (await this.store.holds(envelope.eventId, tx)) return 'import';
    await this.divergence.refuse(envelope, region.epoch, tx);
    this.fenced++;
    this.options.logger.warn('event of a fenced epoch refused', {
      eventId: envelope.eventId,
      streamId: envelope.streamId,
      version: envelope.version,
      originDc: envelope.originDc,
      epoch: envelope.epoch,
      primaryEpoch: region.epoch,
    });
    return 'fenced';
  }

  /** One transaction under the region lock (exclusive for the region's own events, which change who may write). */
  private inTransaction<T>(envelope: EventEnvelope, work: (tx: Queryable, region: RegionFacts | null) => Promise<T>): Promise<T> {
    return this.options.db.transaction(async (manager) => {
      const tx = manager as unknown as Queryable;
      const region = (await this.options.region?.lockRegion(tx, envelope.streamType === 'region' ? 'change-region' : 'write')) ?? null;
      return work(tx, region);
    });
  }
}

/** Records of `topic` (summed over its partitions) this DC's importer had not read, as its instances last said within `freshMs`. */
export async function importerLag(db: Queryable, freshMs: number): Promise<Map<string, { records: number; lastSeen: Date }>> {
  const rows = (await db.query(
    `SELECT topic, sum(lag)::bigint AS records, max(updated_at) AS last_seen FROM importer_progress
      WHERE updated_at > now() - make_interval(secs => $1) GROUP BY topic`,
    [freshMs / 1000],
  )) as { topic: string; records: string; last_seen: Date }[];
  return new Map(rows.map((row) => [row.topic, { records: Number(row.records), lastSeen: row.last_seen }]));
}
