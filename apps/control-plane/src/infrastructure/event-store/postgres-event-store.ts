import { EventEnvelope, newEventId } from '@apim/events';
import type { StreamType } from '@apim/events';
import { AppendContext, ConcurrencyError, ImportOutcome, NewEvent, Queryable, StoreCheckpoint, StoredEvent } from './event-store';

const COLUMNS = `position::text, transaction_id::text, event_id::text, stream_id, stream_type, version, type, schema_version,
  payload, metadata, origin_dc, epoch, occurred_at, recorded_at`;

interface EventRow {
  position: string;
  transaction_id: string;
  event_id: string;
  stream_id: string;
  stream_type: StreamType;
  version: number;
  type: string;
  schema_version: number;
  payload: unknown;
  metadata: { correlationId: string; causationId: string | null; actor: string | null };
  origin_dc: string;
  epoch: number;
  occurred_at: Date;
  recorded_at: Date;
}

/**
 * The event store on PostgreSQL (table `events`, created by migrations/).
 * Appends are optimistic: a stream only grows from the version the writer saw.
 * Tailing reads follow (transaction_id, position) and only transactions older
 * than every one still running, so no reader ever skips a late commit.
 */
export class PostgresEventStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Appends `events` to a stream that must be at `expectedVersion` (0: new
   * stream), in one statement. Pass a transaction's runner as `tx` to append
   * atomically with other writes.
   */
  async append(
    streamId: string,
    streamType: StreamType,
    expectedVersion: number,
    events: NewEvent[],
    context: AppendContext,
    tx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const occurredAt = new Date().toISOString();
    const envelopes: EventEnvelope[] = events.map((event, i) => ({
      eventId: newEventId(),
      type: event.type,
      schemaVersion: event.schemaVersion,
      streamId,
      streamType,
      version: expectedVersion + i + 1,
      originDc: context.originDc,
      epoch: context.epoch,
      occurredAt,
      correlationId: context.correlationId,
      causationId: context.causationId ?? null,
      actor: context.actor ?? null,
      payload: event.payload,
    }));
    try {
      const rows = (await tx.query(
        `INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, payload, metadata, origin_dc, epoch, occurred_at)
         SELECT e.event_id, e.stream_id, e.stream_type, e.version, e.type, e.schema_version, e.payload, e.metadata, e.origin_dc, e.epoch, e.occurred_at
           FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, stream_id text, stream_type text, version int, type text, schema_version int,
                                                  payload jsonb, metadata jsonb, origin_dc text, epoch int, occurred_at timestamptz)
          WHERE (SELECT COALESCE(max(version), 0) FROM events WHERE stream_id = $2) = $3
         RETURNING ${COLUMNS}`,
        [JSON.stringify(envelopes.map(toRecord)), streamId, expectedVersion],
      )) as EventRow[];
      if (rows.length !== envelopes.length) throw new ConcurrencyError(streamId, expectedVersion);
      return rows.map(fromRow);
    } catch (error) {
      if (isUniqueViolation(error, 'events_stream_version_unique')) throw new ConcurrencyError(streamId, expectedVersion);
      throw error;
    }
  }

  /**
   * Appends an event written in another DC, unchanged (same id, version,
   * origin and epoch). Idempotent: a known event id is a `duplicate`; a
   * version that is not the stream's next is a `gap`; another event already
   * at that version is a `conflict`.
   */
  async import(envelope: EventEnvelope, tx: Queryable = this.db): Promise<ImportOutcome> {
    // Inside a caller's transaction a unique violation would abort it: a savepoint keeps it usable.
    const savepoint = tx !== this.db;
    if (savepoint) await tx.query(`SAVEPOINT apim_import`);
    try {
      const rows = (await tx.query(
        `INSERT INTO events (event_id, stream_id, stream_type, version, type, schema_version, payload, metadata, origin_dc, epoch, occurred_at)
         SELECT e.event_id, e.stream_id, e.stream_type, e.version, e.type, e.schema_version, e.payload, e.metadata, e.origin_dc, e.epoch, e.occurred_at
           FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, stream_id text, stream_type text, version int, type text, schema_version int,
                                                  payload jsonb, metadata jsonb, origin_dc text, epoch int, occurred_at timestamptz)
          WHERE (SELECT COALESCE(max(version), 0) FROM events WHERE stream_id = $2) = $3
         ON CONFLICT (event_id) DO NOTHING
         RETURNING position`,
        [JSON.stringify([toRecord(envelope)]), envelope.streamId, envelope.version - 1],
      )) as unknown[];
      if (savepoint) await tx.query(`RELEASE SAVEPOINT apim_import`);
      if (rows.length === 1) return 'appended';
    } catch (error) {
      if (!isUniqueViolation(error, 'events_stream_version_unique')) throw error;
      if (savepoint) await tx.query(`ROLLBACK TO SAVEPOINT apim_import`);
    }
    if (await this.holds(envelope.eventId, tx)) return 'duplicate';
    return (await this.streamVersion(envelope.streamId, tx)) >= envelope.version ? 'conflict' : 'gap';
  }

  /** Whether the store holds the event `eventId`. */
  async holds(eventId: string, tx: Queryable = this.db): Promise<boolean> {
    const rows = (await tx.query(`SELECT 1 FROM events WHERE event_id = $1`, [eventId])) as unknown[];
    return rows.length > 0;
  }

  async streamVersion(streamId: string, tx: Queryable = this.db): Promise<number> {
    const [row] = (await tx.query(`SELECT COALESCE(max(version), 0) AS version FROM events WHERE stream_id = $1`, [streamId])) as {
      version: number;
    }[];
    return Number(row.version);
  }

  async readStream(streamId: string, tx: Queryable = this.db): Promise<StoredEvent[]> {
    const rows = (await tx.query(`SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY events.version`, [streamId])) as EventRow[];
    return rows.map(fromRow);
  }

  /**
   * Events after `checkpoint` in commit-safe order, only from transactions
   * that finished before the oldest one still running (and so can no longer
   * gain a row below what this call returns). `originDc` narrows to one DC's events.
   */
  async readAll(
    checkpoint: StoreCheckpoint,
    limit: number,
    options: { originDc?: string } = {},
    tx: Queryable = this.db,
  ): Promise<StoredEvent[]> {
    const params: unknown[] = [checkpoint.transactionId, checkpoint.position, limit];
    const origin = options.originDc ? `AND origin_dc = $4` : '';
    if (options.originDc) params.push(options.originDc);
    const rows = (await tx.query(
      `SELECT ${COLUMNS} FROM events
        WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint)
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ${origin}
        -- Qualified on purpose: bare names would sort by the ::text output columns.
        ORDER BY events.transaction_id, events.position
        LIMIT $3`,
      params,
    )) as EventRow[];
    return rows.map(fromRow);
  }

  /** The checkpoint just after `event`. */
  static checkpointOf(event: StoredEvent): StoreCheckpoint {
    return { transactionId: event.transactionId, position: event.position };
  }
}

function toRecord(e: EventEnvelope) {
  return {
    event_id: e.eventId,
    stream_id: e.streamId,
    stream_type: e.streamType,
    version: e.version,
    type: e.type,
    schema_version: e.schemaVersion,
    payload: e.payload,
    metadata: { correlationId: e.correlationId, causationId: e.causationId, actor: e.actor },
    origin_dc: e.originDc,
    epoch: e.epoch,
    occurred_at: e.occurredAt,
  };
}

function fromRow(row: EventRow): StoredEvent {
  return {
    position: row.position,
    transactionId: row.transaction_id,
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    streamId: row.stream_id,
    streamType: row.stream_type,
    version: row.version,
    originDc: row.origin_dc,
    epoch: row.epoch,
    occurredAt: row.occurred_at.toISOString(),
    correlationId: row.metadata.correlationId,
    causationId: row.metadata.causationId ?? null,
    actor: row.metadata.actor ?? null,
    payload: row.payload,
    recordedAt: row.recorded_at.toISOString(),
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && name === constraint;
}
