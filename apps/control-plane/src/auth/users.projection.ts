import type { Queryable, StoredEvent } from '../infrastructure/event-store/event-store';
import type { Projection } from '../infrastructure/projections/projection';

/** `rm_users`: usernames and roles, for listings (logins read the user's stream itself). */
export class UsersProjection implements Projection {
  readonly name = 'users';
  readonly tables = ['rm_users'];

  async apply(event: StoredEvent, tx: Queryable): Promise<void> {
    if (event.type === 'user.registered') {
      const p = event.payload as { username: string; roles: string[] };
      await tx.query(`INSERT INTO rm_users (id, username, roles, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [
        event.streamId,
        p.username,
        JSON.stringify(p.roles),
        event.occurredAt,
      ]);
    } else if (event.type === 'user.roles-changed') {
      const p = event.payload as { roles: string[] };
      await tx.query(`UPDATE rm_users SET roles = $2 WHERE id = $1`, [event.streamId, JSON.stringify(p.roles)]);
    }
  }
}
