import type { Queryable, StoredEvent } from '../../infrastructure/event-store/event-store';
import type { Projection } from '../../infrastructure/projections/projection';

/** `rm_policies`: the throttling tiers by name. */
export class PoliciesProjection implements Projection {
  readonly name = 'policies';
  readonly tables = ['rm_policies'];

  async apply(event: StoredEvent, tx: Queryable): Promise<void> {
    if (event.type === 'policy.deleted') {
      await tx.query(`DELETE FROM rm_policies WHERE name = $1`, [(event.payload as { name: string }).name]);
      return;
    }
    if (event.type !== 'policy.created' && event.type !== 'policy.updated') return;
    const p = event.payload as { name: string; requestsPerMinute: number; burst: number; unlimited: boolean };
    if (event.type === 'policy.updated') {
      await tx.query(`UPDATE rm_policies SET requests_per_minute = $2, burst = $3 WHERE name = $1`, [p.name, p.requestsPerMinute, p.burst]);
      return;
    }
    await tx.query(
      `INSERT INTO rm_policies (name, requests_per_minute, burst, unlimited, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING`,
      [p.name, p.requestsPerMinute, p.burst, p.unlimited, event.occurredAt],
    );
  }
}
