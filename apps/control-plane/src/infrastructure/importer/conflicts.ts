import { EventEnvelope } from '@apim/events';
import { Queryable } from '../event-store/event-store';

/** `STREAM_ID`: one stream id created in two DCs. `API_CONTEXT`: two APIs on one context and version. */
export type ConflictKind = 'STREAM_ID' | 'API_CONTEXT';

export interface ConflictSide {
  /** The stream (STREAM_ID) or the API (API_CONTEXT). */
  id: string;
  dc: string;
  /** The event that made the claim: the stream's version 1, or the API's `api.created`. */
  eventId: string;
}

export interface ConflictRow {
  id: string;
  kind: ConflictKind;
  key: string;
  winner: ConflictSide;
  loser: ConflictSide;
  detectedAt: Date;
}

/**
 * The rule both DCs apply alike: the claim made by the smaller event id wins.
 * Event ids are UUIDv7, so that is the earlier claim (to the millisecond),
 * with the ids' random bits breaking a tie; no clock needs to agree.
 */
export function firstClaim(a: ConflictSide, b: ConflictSide): { winner: ConflictSide; loser: ConflictSide } {
  return a.eventId < b.eventId ? { winner: a, loser: b } : { winner: b, loser: a };
}

/** The claim a stream made here: its first event (id and origin); undefined for a stream this DC does not hold. */
export async function claimOf(tx: Queryable, streamId: string): Promise<ConflictSide | undefined> {
  const [first] = (await tx.query(`SELECT event_id::text AS "eventId", origin_dc AS dc FROM events WHERE stream_id = $1 AND version = 1`, [
    streamId,
  ])) as { eventId: string; dc: string }[];
  return first && { id: streamId, dc: first.dc, eventId: first.eventId };
}

/**
 * Records a resolved clash. The id depends only on the clash, so the DC that
 * sees it from either side records the same row, once.
 */
export async function recordConflict(
  tx: Queryable,
  kind: ConflictKind,
  key: string,
  sides: { winner: ConflictSide; loser: ConflictSide },
  loserEvents: unknown[] = [],
): Promise<void> {
  const { winner, loser } = sides;
  await tx.query(
    `INSERT INTO conflicts (id, kind, key, winner_id, winner_dc, winner_event_id, loser_id, loser_dc, loser_event_id, loser_events)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (id) DO UPDATE SET loser_events = conflicts.loser_events || EXCLUDED.loser_events`,
    [
      `${kind}:${key}:${loser.eventId}`,
      kind,
      key,
      winner.id,
      winner.dc,
      winner.eventId,
      loser.id,
      loser.dc,
      loser.eventId,
      JSON.stringify(loserEvents),
    ],
  );
}

/** Whether `envelope` continues a stream branch that lost a STREAM_ID clash (its DC created the stream second). */
export async function onLosingBranch(envelope: EventEnvelope, tx: Queryable): Promise<boolean> {
  const rows = (await tx.query(`SELECT 1 FROM conflicts WHERE kind = 'STREAM_ID' AND key = $1 AND loser_dc = $2`, [
    envelope.streamId,
    envelope.originDc,
  ])) as unknown[];
  return rows.length > 0;
}

/**
 * An imported version 1 meets a local version 1 of another DC: the same
 * stream id created twice (a username, a policy name, a subscription). The
 * first claim wins in every DC; when it is the incoming one, the local branch
 * leaves the store (kept in the conflict row) so the winner can be imported.
 * Returns null when the clash is not of that kind, else the winner and how
 * many local events left the store.
 */
export async function resolveStreamClash(
  incoming: EventEnvelope,
  tx: Queryable,
): Promise<{ winner: 'incoming' | 'local'; moved: number } | null> {
  if (incoming.version !== 1) return null;
  const local = await claimOf(tx, incoming.streamId);
  if (!local || local.dc === incoming.originDc) return null;
  const sides = firstClaim({ id: incoming.streamId, dc: incoming.originDc, eventId: incoming.eventId }, local);
  const incomingWins = sides.winner.eventId === incoming.eventId;
  const moved = incomingWins
    ? ((await tx.query(
        `DELETE FROM events WHERE stream_id = $1 AND origin_dc = $2
         RETURNING event_id::text AS "eventId", type, version, epoch, payload, occurred_at AS "occurredAt"`,
        [incoming.streamId, local.dc],
      )) as unknown[])
    : [];
  await recordConflict(tx, 'STREAM_ID', incoming.streamId, sides, moved);
  return { winner: incomingWins ? 'incoming' : 'local', moved: moved.length };
}

/** The order conflicts are listed in, newest first (a keyset page's order). */
export const CONFLICTS_ORDER = { table: 'conflicts', alias: 'conflicts', sortColumn: 'detected_at', descending: true } as const;

/** A page of the conflicts this DC resolved: `page.sql` is its `WHERE ... ORDER BY ... LIMIT` in CONFLICTS_ORDER. */
export async function listConflicts(db: Queryable, page: { sql: string; params: unknown[] }): Promise<ConflictRow[]> {
  const rows = (await db.query(
    `SELECT id, kind, key, winner_id, winner_dc, winner_event_id::text, loser_id, loser_dc, loser_event_id::text, detected_at
       FROM conflicts ${page.sql}`,
    page.params,
  )) as Record<string, string & Date>[];
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind as ConflictKind,
    key: row.key,
    winner: { id: row.winner_id, dc: row.winner_dc, eventId: row.winner_event_id },
    loser: { id: row.loser_id, dc: row.loser_dc, eventId: row.loser_event_id },
    detectedAt: row.detected_at,
  }));
}
