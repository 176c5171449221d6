import { DomainError, LiveApi } from '@apim/domain';
import { EventEnvelope } from '@apim/events';
import { Queryable } from '../../infrastructure/event-store/event-store';
import { claimOf, firstClaim, recordConflict } from '../../infrastructure/importer/conflicts';

/**
 * `api_contexts`: one row per live (context, version), the claim that makes
 * context uniqueness race-free. Local commands claim and release in their own
 * transaction; imported events do the same in the importer's, so a DC that
 * becomes primary already holds every claim of the history it imported.
 */

/** Live APIs by context, from the claims. Retiring releases the claim, so every claimed context is held by a live API. */
export async function liveApis(db: Queryable): Promise<LiveApi[]> {
  const rows = (await db.query(`SELECT api_id AS id, context, version FROM api_contexts`)) as Omit<LiveApi, 'state'>[];
  return rows.map((row) => ({ ...row, state: 'CREATED' }));
}

/** Claims (context, version) for a new API, or fails with API.CONTEXT_TAKEN. */
export async function claimContext(tx: Queryable, apiId: string, context: string, version: string): Promise<void> {
  const rows = (await tx.query(
    `INSERT INTO api_contexts (context, version, api_id) VALUES ($1, $2, $3) ON CONFLICT (context, version) DO NOTHING RETURNING api_id`,
    [context, version, apiId],
  )) as unknown[];
  if (rows.length === 0)
    throw DomainError.conflict('API.CONTEXT_TAKEN', `Context ${context} version ${version} is already used by another API`, [
      'context',
      'version',
    ]);
}

export async function releaseContext(tx: Queryable, apiId: string): Promise<void> {
  await tx.query(`DELETE FROM api_contexts WHERE api_id = $1`, [apiId]);
}

/**
 * An imported `api.created` claims its context and `api.retired` releases it.
 * When another API holds the claim (two DCs created an API on one context and
 * version: active-active), the first `api.created` wins in every DC: the claim
 * goes to it, and the clash is recorded for the `conflicts` query. Gateways
 * route the same winner (they order APIs on one route by that event id).
 */
export async function followImportedClaim(tx: Queryable, envelope: EventEnvelope): Promise<void> {
  if (envelope.type === 'api.retired') await releaseContext(tx, envelope.streamId);
  if (envelope.type !== 'api.created') return;
  // context and version have the same names and rules in every schema version of api.created.
  const { context, version } = envelope.payload as { context: string; version: string };
  const [claim] = (await tx.query(
    `INSERT INTO api_contexts (context, version, api_id) VALUES ($1, $2, $3)
     ON CONFLICT (context, version) DO UPDATE SET api_id = api_contexts.api_id RETURNING api_id`,
    [context, version, envelope.streamId],
  )) as { api_id: string }[];
  if (claim.api_id === envelope.streamId) return;
  // A claim is only ever made with the api.created that begins the claiming API's stream.
  const holder = (await claimOf(tx, claim.api_id))!;
  const sides = firstClaim({ id: envelope.streamId, dc: envelope.originDc, eventId: envelope.eventId }, holder);
  if (sides.winner.id === envelope.streamId)
    await tx.query(`UPDATE api_contexts SET api_id = $3 WHERE context = $1 AND version = $2`, [context, version, envelope.streamId]);
  await recordConflict(tx, 'API_CONTEXT', `${context} ${version}`, sides);
}

/** Recomputes every claim from the store: after events moved out of it, their claims must go too. */
export async function rebuildContextClaims(tx: Queryable): Promise<void> {
  await tx.query(`DELETE FROM api_contexts`);
  await tx.query(
    `INSERT INTO api_contexts (context, version, api_id)
     SELECT c.payload->>'context', c.payload->>'version', c.stream_id
       FROM events c
      WHERE c.type = 'api.created'
        AND NOT EXISTS (SELECT 1 FROM events r WHERE r.stream_id = c.stream_id AND r.type = 'api.retired')
      -- The first api.created claims, as when clashes are resolved on import.
      ORDER BY c.event_id
     ON CONFLICT (context, version) DO NOTHING`,
  );
}
