import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import {
  decodeGatewayHeartbeat,
  decodeReplicationHeartbeat,
  ensureTopics,
  GatewayHeartbeat,
  JsonLogger,
  ReplicationHeartbeat,
  TOPICS,
} from '@apim/events';
import { Queryable } from '../infrastructure/event-store/event-store';

export interface GatewayDirectoryOptions {
  db: Queryable;
  kafka: Kafka;
  dc: string;
  logger: JsonLogger;
  /** Rows of gateways silent for longer than this are deleted. */
  forgetAfterSeconds: number;
  groupId?: string;
}

/** A gateway as the `gateways` query shows it. */
export interface GatewayRow {
  gatewayId: string;
  dc: string;
  version: string;
  state: string;
  startedAt: Date;
  lastSeen: Date;
  lag: number;
  digest: string;
  lastEventAt: Date | null;
  positions: GatewayHeartbeat['positions'];
}

/** The latest heartbeat per gateway wins; an older one delivered late changes nothing. */
const UPSERT = `
  INSERT INTO rm_gateways AS g (gateway_id, dc, version, state, started_at, last_seen, lag, digest, last_event_at, positions)
  SELECT h.gateway_id, h.dc, h.version, h.state, h.started_at, h.last_seen, h.lag, h.digest, h.last_event_at, h.positions
    FROM jsonb_to_recordset($1::jsonb) AS h(
      gateway_id text, dc text, version text, state text, started_at timestamptz, last_seen timestamptz,
      lag bigint, digest text, last_event_at timestamptz, positions jsonb)
  ON CONFLICT (gateway_id) DO UPDATE SET
    dc = EXCLUDED.dc, version = EXCLUDED.version, state = EXCLUDED.state, started_at = EXCLUDED.started_at,
    last_seen = EXCLUDED.last_seen, lag = EXCLUDED.lag, digest = EXCLUDED.digest,
    last_event_at = EXCLUDED.last_event_at, positions = EXCLUDED.positions
  WHERE g.last_seen < EXCLUDED.last_seen`;

/** The latest replication heartbeat per source DC wins. */
const UPSERT_REPLICATION = `
  INSERT INTO rm_replication AS r (source, replicator_id, state, last_seen, lag_records, lag_ms, records_per_second, partitions)
  SELECT h.source, h.replicator_id, h.state, h.last_seen, h.lag_records, h.lag_ms, h.records_per_second, h.partitions
    FROM jsonb_to_recordset($1::jsonb) AS h(
      source text, replicator_id text, state text, last_seen timestamptz, lag_records bigint, lag_ms bigint,
      records_per_second double precision, partitions jsonb)
  ON CONFLICT (source) DO UPDATE SET
    replicator_id = EXCLUDED.replicator_id, state = EXCLUDED.state, last_seen = EXCLUDED.last_seen,
    lag_records = EXCLUDED.lag_records, lag_ms = EXCLUDED.lag_ms, records_per_second = EXCLUDED.records_per_second,
    partitions = EXCLUDED.partitions
  WHERE r.last_seen < EXCLUDED.last_seen`;

/** How far this DC trails one peer, from the replicator's latest heartbeat. */
export interface ReplicationRow {
  source: string;
  replicatorId: string;
  state: string;
  lastSeen: Date;
  lagRecords: number;
  lagMs: number;
  recordsPerSecond: number;
}

/**
 * Reads this DC's `apim.heartbeats`: lists its gateways from their
 * `gateway.heartbeat` records (heartbeats are not mirrored: each DC's control
 * plane knows its own gateways; `apimctl status` asks every DC), and keeps the
 * replication lag from each peer from the replicator's `replication.heartbeat`.
 * Gateways silent past the forget period are deleted, so the list does not
 * grow forever.
 */
export class GatewayDirectory {
  private consumer?: Consumer;
  private forgetTimer?: NodeJS.Timeout;
  applied = 0;
  refused = 0;

  constructor(private readonly options: GatewayDirectoryOptions) {}

  async start(): Promise<void> {
    const { kafka, dc } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [TOPICS.heartbeats]);
    } finally {
      await admin.disconnect();
    }
    this.consumer = kafka.consumer({ groupId: this.options.groupId ?? `control-plane-gateways-${dc}`, maxWaitTimeInMs: 250 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [TOPICS.heartbeats], fromBeginning: true });
    await this.consumer.run({ eachBatch: (batch) => this.onBatch(batch) });
    this.forgetTimer = setInterval(() => void this.forget().catch(() => undefined), 60_000);
    this.forgetTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.forgetTimer);
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Deletes the gateways silent past the forget period; returns how many. */
  async forget(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.options.forgetAfterSeconds * 1000);
    const result = (await this.options.db.query(`DELETE FROM rm_gateways WHERE last_seen < $1 RETURNING 1`, [cutoff])) as unknown[];
    return result.length;
  }

  private async onBatch({ batch }: EachBatchPayload): Promise<void> {
    const gateways = new Map<string, GatewayHeartbeat>();
    const replication = new Map<string, ReplicationHeartbeat>();
    const later = (a: { at: string } | undefined, b: { at: string }) => !a || Date.parse(a.at) < Date.parse(b.at);
    for (const message of batch.messages) {
      const decoded = decodeGatewayHeartbeat(message.value) ?? decodeReplicationHeartbeat(message.value);
      if (decoded === null) continue;
      if (!decoded.ok) {
        this.refused++;
        this.options.logger.warn('invalid heartbeat ignored', {
          partition: batch.partition,
          offset: message.offset,
          reason: decoded.reason,
        });
        continue;
      }
      const heartbeat = decoded.heartbeat;
      if (heartbeat.kind === 'gateway.heartbeat') {
        if (later(gateways.get(heartbeat.gatewayId), heartbeat)) gateways.set(heartbeat.gatewayId, heartbeat);
      } else if (heartbeat.target === this.options.dc && later(replication.get(heartbeat.source), heartbeat)) {
        replication.set(heartbeat.source, heartbeat);
      }
    }
    if (gateways.size > 0) {
      const rows = [...gateways.values()].map((h) => ({
        gateway_id: h.gatewayId,
        dc: h.dc,
        version: h.version,
        state: h.state,
        started_at: h.startedAt,
        last_seen: h.at,
        lag: h.lag,
        digest: h.digest,
        last_event_at: h.lastEventAt,
        positions: h.positions,
      }));
      await this.options.db.query(UPSERT, [JSON.stringify(rows)]);
      this.applied += rows.length;
    }
    if (replication.size > 0) {
      const rows = [...replication.values()].map((h) => ({
        source: h.source,
        replicator_id: h.replicatorId,
        state: h.state,
        last_seen: h.at,
        lag_records: h.lagRecords,
        lag_ms: h.lagMs,
        records_per_second: h.recordsPerSecond,
        partitions: h.partitions,
      }));
      await this.options.db.query(UPSERT_REPLICATION, [JSON.stringify(rows)]);
      this.applied += rows.length;
    }
  }
}

/** How far this DC trails each peer, per the replicator's latest heartbeats. */
export async function listReplication(db: Queryable): Promise<ReplicationRow[]> {
  const rows = (await db.query(
    `SELECT source, replicator_id, state, last_seen, lag_records, lag_ms, records_per_second FROM rm_replication ORDER BY source`,
  )) as Record<string, unknown>[];
  return rows.map((row) => ({
    source: row.source as string,
    replicatorId: row.replicator_id as string,
    state: row.state as string,
    lastSeen: row.last_seen as Date,
    lagRecords: Number(row.lag_records),
    lagMs: Number(row.lag_ms),
    recordsPerSecond: Number(row.records_per_second),
  }));
}

/** The gateways known to this DC, most recently seen first. */
export async function listGateways(db: Queryable): Promise<GatewayRow[]> {
  const rows = (await db.query(
    `SELECT gateway_id, dc, version, state, started_at, last_seen, lag, digest, last_event_at, positions
       FROM rm_gateways ORDER BY last_seen DESC, gateway_id`,
  )) as Record<string, unknown>[];
  return rows.map((row) => ({
    gatewayId: row.gateway_id as string,
    dc: row.dc as string,
    version: row.version as string,
    state: row.state as string,
    startedAt: row.started_at as Date,
    lastSeen: row.last_seen as Date,
    lag: Number(row.lag),
    digest: row.digest as string,
    lastEventAt: (row.last_event_at as Date | null) ?? null,
    positions: row.positions as GatewayHeartbeat['positions'],
  }));
}
