import type { Queryable, StoredEvent } from '../../infrastructure/event-store/event-store';
import type { Projection } from '../../infrastructure/projections/projection';
import { applicationDeleted } from '../../devportal/projections/deleted-application';

/** `rm_api_keys`, `rm_oauth_clients`, `rm_signing_keys` (every DC's public keys) and `rm_revoked_tokens`. */
export class CredentialsProjection implements Projection {
  readonly name = 'credentials';
  readonly tables = ['rm_api_keys', 'rm_oauth_clients', 'rm_signing_keys', 'rm_revoked_tokens'];

  async apply(event: StoredEvent, tx: Queryable): Promise<void> {
    const p = event.payload as Record<string, unknown>;
    switch (event.type) {
      case 'apikey.generated':
        await tx.query(
          `INSERT INTO rm_api_keys (id, application_id, prefix, status, expires_at, created_at)
           VALUES ($1, $2, $3, CASE WHEN ${applicationDeleted('$2')} THEN 'REVOKED' ELSE 'ACTIVE' END, $4, $5)
           ON CONFLICT (id) DO NOTHING`,
          [event.streamId, p.applicationId, p.prefix, p.expiresAt, event.occurredAt],
        );
        return;
      case 'apikey.revoked':
        await tx.query(`UPDATE rm_api_keys SET status = 'REVOKED' WHERE id = $1`, [event.streamId]);
        return;
      case 'oauth-client.registered':
        await tx.query(
          `INSERT INTO rm_oauth_clients (id, application_id, status, created_at)
           VALUES ($1, $2, CASE WHEN ${applicationDeleted('$2')} THEN 'REVOKED' ELSE 'ACTIVE' END, $3) ON CONFLICT (id) DO NOTHING`,
          [event.streamId, p.applicationId, event.occurredAt],
        );
        return;
      case 'application.deleted':
        // Its keys and clients go with it (their own streams record no revocation: this event is the record).
        await tx.query(`UPDATE rm_api_keys SET status = 'REVOKED' WHERE application_id = $1`, [event.streamId]);
        await tx.query(`UPDATE rm_oauth_clients SET status = 'REVOKED' WHERE application_id = $1`, [event.streamId]);
        return;
      case 'oauth-client.revoked':
        await tx.query(`UPDATE rm_oauth_clients SET status = 'REVOKED' WHERE id = $1`, [event.streamId]);
        return;
      case 'signing-key.rotated':
        await tx.query(
          `INSERT INTO rm_signing_keys (kid, dc, public_jwk, active_from) VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO NOTHING`,
          [p.kid, event.originDc, JSON.stringify(p.publicJwk), p.activeFrom],
        );
        return;
      case 'token.revoked':
        await tx.query(`INSERT INTO rm_revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING`, [
          p.jti,
          p.expiresAt,
        ]);
        return;
    }
  }
}
