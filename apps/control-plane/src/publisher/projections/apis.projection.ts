import type { Queryable, StoredEvent } from '../../infrastructure/event-store/event-store';
import type { Projection } from '../../infrastructure/projections/projection';

const STATE_AFTER: Record<string, string> = {
  'api.published': 'PUBLISHED',
  'api.deprecated': 'DEPRECATED',
  'api.retired': 'RETIRED',
  'api.blocked': 'BLOCKED',
  'api.unblocked': 'PUBLISHED',
};

const UPDATABLE: Record<string, string> = {
  name: 'name',
  upstreamUrls: 'upstream_urls',
  upstreamTimeoutMs: 'upstream_timeout_ms',
  operations: 'operations',
  tiers: 'tiers',
  visibility: 'visibility',
  throttlingPolicy: 'throttling_policy',
};

/** `rm_apis`: one row per API with its current definition and lifecycle state. */
export class ApisProjection implements Projection {
  readonly name = 'apis';
  readonly tables = ['rm_apis'];

  async apply(event: StoredEvent, tx: Queryable): Promise<void> {
    if (event.streamType !== 'api') return;
    const p = event.payload as Record<string, unknown>;
    if (event.type === 'api.created') {
      await tx.query(
        `INSERT INTO rm_apis (id, name, version, context, state, upstream_urls, upstream_timeout_ms, operations, tiers, visibility, home_dc, stream_version, created_at, updated_at, throttling_policy)
         VALUES ($1, $2, $3, $4, 'CREATED', $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)`,
        [
          event.streamId,
          p.name,
          p.version,
          p.context,
          JSON.stringify(p.upstreamUrls),
          p.upstreamTimeoutMs,
          JSON.stringify(p.operations),
          JSON.stringify(p.tiers),
          p.visibility,
          event.originDc,
          event.version,
          event.occurredAt,
          p.throttlingPolicy ?? null,
        ],
      );
      return;
    }
    if (event.type === 'api.updated') {
      const sets: string[] = [];
      const values: unknown[] = [event.streamId, event.version, event.occurredAt];
      for (const [field, column] of Object.entries(UPDATABLE)) {
        if (p[field] === undefined) continue;
        values.push(p[field] !== null && typeof p[field] === 'object' ? JSON.stringify(p[field]) : p[field]);
        sets.push(`${column} = $${values.length}`);
      }
      await tx.query(`UPDATE rm_apis SET ${[...sets, 'stream_version = $2', 'updated_at = $3'].join(', ')} WHERE id = $1`, values);
      return;
    }
    const state = STATE_AFTER[event.type];
    if (state)
      await tx.query(`UPDATE rm_apis SET state = $2, stream_version = $3, updated_at = $4 WHERE id = $1`, [
        event.streamId,
        state,
        event.version,
        event.occurredAt,
      ]);
  }
}
