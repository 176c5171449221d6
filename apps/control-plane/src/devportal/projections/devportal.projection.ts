import type { Queryable, StoredEvent } from '../../infrastructure/event-store/event-store';
import type { Projection } from '../../infrastructure/projections/projection';
import { applicationDeleted } from './deleted-application';

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
    } else if (event.type === 'application.deleted') {
      // The row stays, marked, so that lists leave it out and its subscriptions keep their application.
      await tx.query(`UPDATE rm_applications SET deleted_at = $2 WHERE id = $1`, [event.streamId, event.occurredAt]);
      await tx.query(`UPDATE rm_subscriptions SET status = 'REMOVED', updated_at = $2 WHERE application_id = $1 AND status <> 'REMOVED'`, [
        event.streamId,
        event.occurredAt,
      ]);
    } else if (event.type === 'subscription.created') {
      const p = event.payload as { applicationId: string; apiId: string; tier: string };
      // A re-subscription after a removal reuses the stream, so this is an upsert. One of a deleted application is born removed.
      await tx.query(
        `INSERT INTO rm_subscriptions (id, application_id, api_id, tier, status, updated_at)
         VALUES ($1, $2, $3, $4, CASE WHEN ${applicationDeleted('$2')} THEN 'REMOVED' ELSE 'ACTIVE' END, $5)
         ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier, status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`,
        [event.streamId, p.applicationId, p.apiId, p.tier, event.occurredAt],
      );
    } else if (event.type === 'subscription.tier-changed') {
      const p = event.payload as { tier: string };
      await tx.query(`UPDATE rm_subscriptions SET tier = $2, updated_at = $3 WHERE id = $1`, [event.streamId, p.tier, event.occurredAt]);
    } else if (SUBSCRIPTION_STATUS[event.type]) {
      await tx.query(
        `UPDATE rm_subscriptions SET status = CASE WHEN ${applicationDeleted('application_id')} THEN 'REMOVED' ELSE $2 END, updated_at = $3
          WHERE id = $1`,
        [event.streamId, SUBSCRIPTION_STATUS[event.type], event.occurredAt],
      );
    }
  }
}
