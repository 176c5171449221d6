import { Queryable } from '../infrastructure/event-store/event-store';

/**
 * Names of every throttling policy that exists (created, and not deleted
 * since), read from the store itself rather than a read model, so that a
 * policy created or deleted a moment ago counts at once.
 */
export async function policyNames(db: Queryable): Promise<string[]> {
  const rows = (await db.query(
    `SELECT DISTINCT ON (stream_id) type, payload->>'name' AS name FROM events
      WHERE type IN ('policy.created', 'policy.deleted') ORDER BY stream_id, version DESC`,
  )) as { type: string; name: string }[];
  return rows.filter((row) => row.type === 'policy.created').map((row) => row.name);
}
