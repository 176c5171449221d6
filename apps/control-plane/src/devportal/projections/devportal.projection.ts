import type { Queryable, StoredEvent } from '../../infrastructure/event-store/event-store';
import type { Projection } from '../../infrastructure/projections/projection';

const SUBSCRIPTION_STATUS: Record<string, string> = {
  'subscription.blocked': 'BLOCKED',
  'subscription.unblocked': 'ACTIVE',
  'subscription.removed': 'REMOVED',
};

/** `rm_applications` and `rm_subscriptions`: what a developer sees in the portal. */
export class DevportalProjection implements Projection {
  readonly name = 'devportal';
  readonly tables = ['rm_applications', 'rm_subscriptions'];

  async apply(event: StoredEvent, tx: Queryable): Promise<void> {
    if (event.type === 'application.created') {
      const p = event.payload as { ownerId: string; name: string; policy: string };
      await tx.query(
        `INSERT INTO rm_applications (id, owner_id, name, policy, home_dc, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO NOTHING`,
        [event.streamId, p.ownerId, p.name, p.policy, event.originDc, event.occurredAt],
      );
    } else if (event.type === 'application.updated') {
      const p = event.payload as { name: string; policy: string };
      await tx.query(`UPDATE rm_applications SET name = $2, policy = $3 WHERE id = $1`, [event.streamId, p.name, p.policy]);
    } else if (event.type === 'subscription.created') {
      const p = event.payload as { applicationId: string; apiId: string; tier: string };
      // A re-subscription after a removal reuses the stream, so this is an upsert.
      await tx.query(
        `INSERT INTO rm_subscriptions (id, application_id, api_id, tier, status, updated_at) VALUES ($1, $2, $3, $4, 'ACTIVE', $5)
         ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier, status = 'ACTIVE', updated_at = EXCLUDED.updated_at`,
        [event.streamId, p.applicationId, p.apiId, p.tier, event.occurredAt],
      );
    } else if (SUBSCRIPTION_STATUS[event.type]) {
      await tx.query(`UPDATE rm_subscriptions SET status = $2, updated_at = $3 WHERE id = $1`, [
        event.streamId,
        SUBSCRIPTION_STATUS[event.type],
        event.occurredAt,
      ]);
    }
  }
}
