import { isIsoDateTime } from '../catalogue/field-rules';
import { joinProblems } from '../catalogue/payload-validation';
import type { EncodedEvent } from '../codec';
import { HEADERS } from '../envelope';
import { DC_ID_PATTERN } from '../runtime/dc-config';
import { heartbeatProblems, isCount, OFFSET, parseHeartbeatObject } from './heartbeat-record';

/** The `kind` of a replicator's heartbeat on the target DC's `apim.heartbeats`. */
export const REPLICATION_HEARTBEAT = 'replication.heartbeat';

/** How far the mirror of one source partition is behind the source. */
export interface ReplicationPartition {
  /** The source topic, e.g. `apim.events`. */
  topic: string;
  partition: number;
  /** Next source offset to mirror (every record before it is in the target, committed). */
  next: string;
  /** The source partition's end offset when last asked. */
  end: string;
  lagRecords: number;
  lagMs: number;
}

/**
 * What a replicator writes every second for each source DC it mirrors, into
 * the target DC's `apim.heartbeats` (key `replication:<source>`), so that the
 * target's control plane knows its replication lag even when no event flows.
 * `lagMs` is the age of the oldest source record not yet mirrored (0 when
 * nothing is pending); while the source is unreachable it is the time since
 * the replicator last knew it was caught up, a lower bound.
 */
export interface ReplicationHeartbeat {
  kind: typeof REPLICATION_HEARTBEAT;
  source: string;
  target: string;
  replicatorId: string;
  /** `mirroring`, `source-down`, `target-down`, `source-behind`, `source-replaced` or `starting`. */
  state: string;
  at: string;
  lagRecords: number;
  lagMs: number;
  /** Records mirrored per second over the last few seconds. */
  recordsPerSecond: number;
  partitions: ReplicationPartition[];
}

export type ReplicationHeartbeatDecodeResult = { ok: true; heartbeat: ReplicationHeartbeat } | { ok: false; reason: string };

export function encodeReplicationHeartbeat(heartbeat: ReplicationHeartbeat): EncodedEvent {
  return {
    key: `replication:${heartbeat.source}`,
    value: Buffer.from(JSON.stringify(heartbeat), 'utf8'),
    headers: { kind: REPLICATION_HEARTBEAT, [HEADERS.originDc]: heartbeat.target },
  };
}

/** Reads a record of `apim.heartbeats`: `null` when it is of another kind, else the heartbeat or why it was refused. Never throws. */
export function decodeReplicationHeartbeat(value: Buffer | null): ReplicationHeartbeatDecodeResult | null {
  const parsed = parseHeartbeatObject(value);
  // Not a JSON object: the gateway heartbeat decoder, which reads the same topic, reports it.
  if (!('raw' in parsed)) return null;
  const raw = parsed.raw;
  if (raw.kind !== REPLICATION_HEARTBEAT) return null;
  const { problems, require } = heartbeatProblems();
  const isDc = (v: unknown) => typeof v === 'string' && DC_ID_PATTERN.test(v);
  require(isDc(raw.source), 'source', `must match ${DC_ID_PATTERN.source}`);
  require(isDc(raw.target), 'target', `must match ${DC_ID_PATTERN.source}`);
  require(typeof raw.replicatorId === 'string' && raw.replicatorId.length <= 128, 'replicatorId', 'must be a string of at most 128');
  require(typeof raw.state === 'string' && raw.state.length <= 32, 'state', 'must be a string of at most 32 characters');
  require(isIsoDateTime(raw.at), 'at', 'must be an ISO-8601 date-time with an offset');
  require(isCount(raw.lagRecords), 'lagRecords', 'must be an integer >= 0');
  require(isCount(raw.lagMs), 'lagMs', 'must be an integer >= 0');
  require(typeof raw.recordsPerSecond === 'number' && raw.recordsPerSecond >= 0, 'recordsPerSecond', 'must be a number >= 0');
  const partitions = Array.isArray(raw.partitions) ? (raw.partitions as Record<string, unknown>[]) : null;
  require(partitions !== null &&
    partitions.length <= 10_000 &&
    partitions.every(
      (p) =>
        p !== null &&
        typeof p === 'object' &&
        typeof p.topic === 'string' &&
        p.topic.length <= 249 &&
        isCount(p.partition) &&
        typeof p.next === 'string' &&
        OFFSET.test(p.next) &&
        typeof p.end === 'string' &&
        OFFSET.test(p.end) &&
        isCount(p.lagRecords) &&
        isCount(p.lagMs),
    ), 'partitions', 'must be a list of { topic, partition, next, end, lagRecords, lagMs }');
  if (problems.length > 0) return { ok: false, reason: joinProblems(problems) };
  return {
    ok: true,
    heartbeat: {
      kind: REPLICATION_HEARTBEAT,
      source: raw.source as string,
      target: raw.target as string,
      replicatorId: raw.replicatorId as string,
      state: raw.state as string,
      at: raw.at as string,
      lagRecords: raw.lagRecords as number,
      lagMs: raw.lagMs as number,
      recordsPerSecond: raw.recordsPerSecond as number,
      partitions: partitions!.map((p) => ({
        topic: p.topic as string,
        partition: p.partition as number,
        next: p.next as string,
        end: p.end as string,
        lagRecords: p.lagRecords as number,
        lagMs: p.lagMs as number,
      })),
    },
  };
}
