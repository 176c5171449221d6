import { Queryable } from '../infrastructure/event-store/event-store';

/**
 * Names of every throttling policy, read from the store itself rather than
 * a read model, so that a policy created a moment ago is already usable.
 */
export async function policyNames(db: Queryable): Promise<string[]> {
  const rows = (await db.query(`SELECT DISTINCT payload->>'name' AS name FROM events WHERE type = 'policy.created'`)) as { name: string }[];
  return rows.map((row) => row.name);
}
