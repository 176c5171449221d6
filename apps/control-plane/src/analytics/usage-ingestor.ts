import { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { deadLetterOf, decodeUsage, DlqWriter, ensureTopics, JsonLogger, TOPICS, UsageRecord, UsageSummary } from '@apim/events';
import { Queryable } from '../infrastructure/event-store/event-store';

export interface UsageIngestorOptions {
  db: Queryable;
  kafka: Kafka;
  dc: string;
  /** `apim.analytics` and every peer's mirror, `<peer>.apim.analytics`. */
  topics: string[];
  logger: JsonLogger;
  /** Where undecodable records go; by default a writer on a producer the ingestor owns. */
  dlq?: DlqWriter;
  /** Consumer group; `analytics-<dc>` by default. */
  groupId?: string;
  /**
   * How long a counted record id is remembered. Past it Kafka can no longer
   * redeliver the record (analytics topics keep 7 days), so the id is pruned.
   */
  seenRetentionMs?: number;
}

const DEFAULT_SEEN_RETENTION_MS = 8 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;
const PRUNE_BATCH = 10_000;

/**
 * One statement, hence one transaction whatever `db` is (a pool may run each
 * query on another connection, so BEGIN/COMMIT through it would not hold):
 * remember the batch's ids, and add to the minute buckets only the records
 * whose id was not seen before.
 */
const APPLY = `
  WITH batch AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
      record_id uuid, api_id text, application_id text, dc text, minute timestamptz,
      requests bigint, errors bigint, client_errors bigint, latency_ms_sum double precision, latency_ms_max double precision)
  ), fresh AS (
    INSERT INTO usage_records_seen (record_id)
    SELECT record_id FROM batch
    ON CONFLICT (record_id) DO NOTHING
    RETURNING record_id
  ), counted AS (
    INSERT INTO rm_usage AS u (api_id, application_id, dc, minute, requests, errors, client_errors, latency_ms_sum, latency_ms_max)
    SELECT b.api_id, b.application_id, b.dc, b.minute, sum(b.requests), sum(b.errors), sum(b.client_errors),
           sum(b.latency_ms_sum), max(b.latency_ms_max)
      FROM batch b JOIN fresh f USING (record_id)
     GROUP BY b.api_id, b.application_id, b.dc, b.minute
    ON CONFLICT (api_id, application_id, dc, minute) DO UPDATE SET
      requests = u.requests + EXCLUDED.requests,
      errors = u.errors + EXCLUDED.errors,
      client_errors = u.client_errors + EXCLUDED.client_errors,
      latency_ms_sum = u.latency_ms_sum + EXCLUDED.latency_ms_sum,
      latency_ms_max = GREATEST(u.latency_ms_max, EXCLUDED.latency_ms_max)
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM fresh)::int AS fresh`;

/**
 * Counts `records` (usage records of one request, and summaries of many)
 * into rm_usage, each record id once however often it is delivered. Returns
 * how many were new. Atomic: a failure counts nothing.
 */
export async function applyUsageRecords(db: Queryable, records: (UsageRecord | UsageSummary)[]): Promise<number> {
  const byId = new Map<string, UsageRecord | UsageSummary>();
  for (const record of records) if (!byId.has(record.recordId)) byId.set(record.recordId, record);
  if (byId.size === 0) return 0;
  const rows = [...byId.values()].map((record) => ({
    record_id: record.recordId,
    api_id: record.apiId,
    application_id: record.applicationId ?? '',
    dc: record.dc,
    ...('kind' in record
      ? {
          minute: record.minute,
          requests: record.requests,
          errors: record.errors,
          client_errors: record.clientErrors,
          latency_ms_sum: record.latencyMsSum,
          latency_ms_max: record.latencyMsMax,
        }
      : {
          minute: minuteOf(record.at),
          requests: 1,
          errors: record.status >= 500 ? 1 : 0,
          client_errors: record.status >= 400 && record.status < 500 ? 1 : 0,
          latency_ms_sum: record.latencyMs,
          latency_ms_max: record.latencyMs,
        }),
  }));
  const [result] = (await db.query(APPLY, [JSON.stringify(rows)])) as { fresh: number }[];
  return result.fresh;
}

/** The start of the UTC minute of an ISO-8601 instant. */
function minuteOf(at: string): string {
  return new Date(Math.floor(Date.parse(at) / 60_000) * 60_000).toISOString();
}

/**
 * Turns the usage records of this DC's gateways (`apim.analytics`) and of its
 * peers (their mirrors) into the per-minute buckets the `usage` query reads.
 * Each Kafka batch is applied in one transaction and its offsets committed
 * after it, so a crash redelivers at most a batch, which the seen-id table
 * then ignores. An undecodable record goes to the DLQ and the rest carries on.
 */
export class UsageIngestor {
  private consumer?: Consumer;
  private ownProducer?: Producer;
  private dlq?: DlqWriter;
  private pruneTimer?: NodeJS.Timeout;
  private pruning: Promise<unknown> = Promise.resolve();
  /** Records counted for the first time. */
  applied = 0;
  /** Valid records already counted (redeliveries), ignored. */
  duplicates = 0;
  deadLettered = 0;

  constructor(private readonly options: UsageIngestorOptions) {
    this.dlq = options.dlq;
  }

  /** Joins the consumer group. Throws when Kafka cannot be reached; the caller retries (after `stop()`). */
  async start(): Promise<void> {
    const { kafka, topics, dc } = this.options;
    if (topics.length === 0) return;
    // Like the importer: a topic that does not exist yet (a peer whose mirror the
    // replicator has not created) is created with its configuration, never auto-created.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [...topics, TOPICS.dlq]);
    } finally {
      await admin.disconnect();
    }
    if (!this.dlq) {
      this.ownProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.ownProducer.connect();
      this.dlq = new DlqWriter(this.ownProducer, `analytics-${dc}`);
    }
    // Mirrors read uncommitted, as the importer reads them: a record of an aborted
    // replicator transaction is written again by the next one, and counted once by its id.
    this.consumer = kafka.consumer({ groupId: this.options.groupId ?? `analytics-${dc}`, maxWaitTimeInMs: 250, readUncommitted: true });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (batch) => this.onBatch(batch) });
    // Pruning runs at start too, so that it happens even if the process never lives an hour.
    this.schedulePrune();
    this.pruneTimer = setInterval(() => this.schedulePrune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.pruning;
    await this.consumer?.disconnect();
    this.consumer = undefined;
    if (this.ownProducer) {
      await this.ownProducer.disconnect();
      this.ownProducer = undefined;
      this.dlq = undefined;
    }
  }

  /** Forgets counted ids older than the retention, a slice at a time. Returns how many went. */
  async pruneSeen(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - (this.options.seenRetentionMs ?? DEFAULT_SEEN_RETENTION_MS));
    let pruned = 0;
    try {
      for (;;) {
        const [{ gone }] = (await this.options.db.query(
          `WITH gone AS (
             DELETE FROM usage_records_seen WHERE record_id IN (
               SELECT record_id FROM usage_records_seen WHERE seen_at < $1 LIMIT ${PRUNE_BATCH})
             RETURNING 1)
           SELECT count(*)::int AS gone FROM gone`,
          [before.toISOString()],
        )) as { gone: number }[];
        pruned += gone;
        if (gone < PRUNE_BATCH) return pruned;
      }
    } catch (error) {
      this.options.logger.warn('could not prune seen usage record ids', { error: (error as Error).message });
      return pruned;
    }
  }

  private schedulePrune(): void {
    this.pruning = this.pruning.then(() => this.pruneSeen());
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, heartbeat, isRunning, isStale } = payload;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const records: (UsageRecord | UsageSummary)[] = [];
    for (const message of batch.messages) {
      const decoded = decodeUsage(message.value);
      if (decoded.ok) records.push(decoded.usage);
      else await this.deadLetter(batch.topic, batch.partition, message, decoded.reason);
    }
    const fresh = await applyUsageRecords(this.options.db, records);
    this.applied += fresh;
    this.duplicates += records.length - fresh;
    resolveOffset(batch.messages[batch.messages.length - 1].offset);
    await commitOffsetsIfNecessary(uncommittedOffsets());
    await heartbeat();
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string): Promise<void> {
    this.options.logger.warn('invalid usage record sent to the DLQ', { topic, partition, offset: message.offset, reason });
    await this.dlq!.write(deadLetterOf(topic, partition, message, reason));
    this.deadLettered++;
  }
}
