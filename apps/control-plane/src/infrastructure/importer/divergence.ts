import { DivergenceRecordedV1, EventEnvelope } from '@apim/events';
import { Queryable } from '../event-store/event-store';
import { PostgresEventStore } from '../event-store/postgres-event-store';

/** The stream that records the fencing of one event. */
export const divergenceStreamId = (eventId: string) => `divergence:${eventId}`;

/** A row of `divergent_events`, as `divergentEvents` lists it. */
export interface DivergentEventRow {
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  originDc: string;
  epoch: number;
  fencedInEpoch: number;
  reason: string;
  recordedAt: Date;
}

/**
 * Events of a fenced epoch (DESIGN.md section 7): the primary refuses an
 * event of an older epoch that reaches it after its promotion and announces
 * it (`divergence.recorded`); every other DC moves that event, and the rest
 * of its stream written in older epochs, out of its store into
 * `divergent_events`. All of it runs in the caller's transaction.
 */
export class Divergence {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly dc: string,
  ) {}

  /** Whether the event was already found divergent here (refused, moved aside or announced). */
  async isListed(eventId: string, tx: Queryable): Promise<boolean> {
    const rows = (await tx.query(`SELECT 1 FROM divergent_events WHERE event_id = $1`, [eventId])) as unknown[];
    return rows.length > 0;
  }

  /** The primary of `epoch` refuses `envelope`: listed here, and announced to every DC by a `divergence.recorded` of its own. */
  async refuse(envelope: EventEnvelope, epoch: number, tx: Queryable): Promise<void> {
    await this.list(tx, envelope, epoch, `reached ${this.dc} after its promotion in epoch ${epoch}`, envelope);
    const streamId = divergenceStreamId(envelope.eventId);
    if ((await this.store.streamVersion(streamId, tx)) > 0) return;
    const payload: DivergenceRecordedV1 = {
      eventId: envelope.eventId,
      streamId: envelope.streamId,
      streamType: envelope.streamType,
      version: envelope.version,
      type: envelope.type,
      originDc: envelope.originDc,
      epoch: envelope.epoch,
      fencedInEpoch: epoch,
    };
    await this.store.append(
      streamId,
      'divergence',
      0,
      [{ type: 'divergence.recorded', schemaVersion: 1, payload }],
      { originDc: this.dc, epoch, correlationId: envelope.correlationId, causationId: envelope.eventId, actor: 'system' },
      tx,
    );
  }

  /**
   * Follows a primary's `divergence.recorded`: the named event and whatever
   * this DC holds after it in its stream from older epochs move aside (a
   * DC that never held the event lists it all the same, so that every DC
   * lists the same events). Returns how many events left the store.
   */
  async follow(recorded: DivergenceRecordedV1, tx: Queryable): Promise<number> {
    const reason = `fenced by the primary of epoch ${recorded.fencedInEpoch}`;
    const moved = await this.moveAside(tx, recorded.streamId, recorded.version, recorded.fencedInEpoch, reason);
    await this.list(tx, recorded, recorded.fencedInEpoch, reason, null);
    return moved;
  }

  /**
   * `incoming` (a newer epoch) claims a version this DC holds from an older
   * epoch: that event never reached the primary that wrote `incoming`, so it
   * and its successors of older epochs move aside. Returns how many moved;
   * 0 when the conflict is not of that kind (same epoch: a real conflict).
   */
  async supersede(incoming: EventEnvelope, tx: Queryable): Promise<number> {
    const reason = `superseded by ${incoming.originDc}'s version ${incoming.version} in epoch ${incoming.epoch}`;
    return this.moveAside(tx, incoming.streamId, incoming.version, incoming.epoch, reason);
  }

  private async moveAside(tx: Queryable, streamId: string, fromVersion: number, belowEpoch: number, reason: string): Promise<number> {
    const moved = (await tx.query(
      `WITH gone AS (
         DELETE FROM events WHERE stream_id = $1 AND version >= $2 AND epoch < $3
         RETURNING event_id, stream_id, stream_type, version, type, schema_version, payload, metadata, origin_dc, epoch, occurred_at
       )
       INSERT INTO divergent_events (event_id, stream_id, version, type, origin_dc, epoch, fenced_in_epoch, reason, envelope)
       SELECT event_id, stream_id, version, type, origin_dc, epoch, $3, $4,
              jsonb_build_object('eventId', event_id, 'type', type, 'schemaVersion', schema_version, 'streamId', stream_id,
                                 'streamType', stream_type, 'version', version, 'originDc', origin_dc, 'epoch', epoch,
                                 'occurredAt', occurred_at, 'correlationId', metadata->>'correlationId',
                                 'causationId', metadata->>'causationId', 'actor', metadata->>'actor', 'payload', payload)
         FROM gone
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [streamId, fromVersion, belowEpoch, reason],
    )) as unknown[];
    return moved.length;
  }

  private async list(
    tx: Queryable,
    event: Pick<EventEnvelope, 'eventId' | 'streamId' | 'version' | 'type' | 'originDc' | 'epoch'>,
    fencedInEpoch: number,
    reason: string,
    envelope: EventEnvelope | null,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO divergent_events (event_id, stream_id, version, type, origin_dc, epoch, fenced_in_epoch, reason, envelope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING`,
      [event.eventId, event.streamId, event.version, event.type, event.originDc, event.epoch, fencedInEpoch, reason, envelope],
    );
  }
}

/** The order divergent events are listed in, oldest first (a keyset page's order). */
export const DIVERGENT_EVENTS_ORDER = {
  table: 'divergent_events',
  alias: 'divergent_events',
  sortColumn: 'recorded_at',
  idColumn: 'event_id',
  uuidIds: true,
} as const;

/** A page of the divergent events this DC knows: `page.sql` is its `WHERE ... ORDER BY ... LIMIT` in DIVERGENT_EVENTS_ORDER. */
export async function listDivergentEvents(db: Queryable, page: { sql: string; params: unknown[] }): Promise<DivergentEventRow[]> {
  const rows = (await db.query(
    `SELECT event_id::text AS "eventId", stream_id AS "streamId", version, type, origin_dc AS "originDc", epoch,
            fenced_in_epoch AS "fencedInEpoch", reason, recorded_at AS "recordedAt"
       FROM divergent_events ${page.sql}`,
    page.params,
  )) as DivergentEventRow[];
  return rows;
}
