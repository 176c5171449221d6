import { isIsoDateTime } from '../catalogue/field-rules';
import { joinProblems } from '../catalogue/payload-validation';
import type { EncodedEvent } from '../codec';
import { HEADERS } from '../envelope';
import { DC_ID_PATTERN } from '../runtime/dc-config';
import { heartbeatProblems, isCount, OFFSET, parseHeartbeatObject } from './heartbeat-record';

/** The `kind` of a gateway's heartbeat on `apim.heartbeats` (the replicator's heartbeats have their own kinds). */
export const GATEWAY_HEARTBEAT = 'gateway.heartbeat';

/** Where a gateway stands on one partition it reads. */
export interface HeartbeatPosition {
  topic: string;
  partition: number;
  /** Next offset to read. */
  next: string;
  /** Records behind the partition's end. */
  lag: number;
}

/**
 * A gateway's periodic "I am here" (DESIGN.md section 8), written to its DC's
 * `apim.heartbeats` with key `gateway:<gatewayId>`, so that the control plane
 * can list gateways with their position, lag and routing-table digest, and
 * show as gone those that fell silent. Telemetry, not an event.
 */
export interface GatewayHeartbeat {
  kind: typeof GATEWAY_HEARTBEAT;
  gatewayId: string;
  dc: string;
  /** The gateway's software version. */
  version: string;
  /** ready, degraded, catching-up or not-ready (see the gateway's /readyz). */
  state: string;
  startedAt: string;
  at: string;
  positions: HeartbeatPosition[];
  /** Sum of the positions' lag. */
  lag: number;
  /** SHA-256 of the routing table: equal digests, equal tables. */
  digest: string;
  /** occurredAt of the last event applied, or null. */
  lastEventAt: string | null;
}

export type GatewayHeartbeatDecodeResult = { ok: true; heartbeat: GatewayHeartbeat } | { ok: false; reason: string };

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function encodeGatewayHeartbeat(heartbeat: GatewayHeartbeat): EncodedEvent {
  return {
    key: `gateway:${heartbeat.gatewayId}`,
    value: Buffer.from(JSON.stringify(heartbeat), 'utf8'),
    headers: { kind: GATEWAY_HEARTBEAT, [HEADERS.originDc]: heartbeat.dc },
  };
}

/**
 * Reads a heartbeat record; `null` for a record of another kind (the topic is
 * shared), else the heartbeat or why it was refused. Never throws.
 */
export function decodeGatewayHeartbeat(value: Buffer | null): GatewayHeartbeatDecodeResult | null {
  const parsed = parseHeartbeatObject(value);
  if (!('raw' in parsed)) return parsed;
  const raw = parsed.raw;
  if (raw.kind !== GATEWAY_HEARTBEAT) return null;
  const { problems, require } = heartbeatProblems();
  require(typeof raw.gatewayId === 'string' && ID.test(raw.gatewayId), 'gatewayId', 'must be 1..128 of [A-Za-z0-9._:-]');
  require(typeof raw.dc === 'string' && DC_ID_PATTERN.test(raw.dc), 'dc', `must match ${DC_ID_PATTERN.source}`);
  require(typeof raw.version === 'string' && raw.version.length <= 64, 'version', 'must be a string of at most 64 characters');
  require(typeof raw.state === 'string' && raw.state.length <= 32, 'state', 'must be a string of at most 32 characters');
  require(isIsoDateTime(raw.startedAt), 'startedAt', 'must be an ISO-8601 date-time with an offset');
  require(isIsoDateTime(raw.at), 'at', 'must be an ISO-8601 date-time with an offset');
  require(isCount(raw.lag), 'lag', 'must be an integer >= 0');
  require(typeof raw.digest === 'string' && /^[0-9a-f]{64}$/.test(raw.digest), 'digest', 'must be a SHA-256 in hex');
  require(raw.lastEventAt === null || isIsoDateTime(raw.lastEventAt), 'lastEventAt', 'must be an ISO-8601 date-time or null');
  const positions = Array.isArray(raw.positions) ? (raw.positions as Record<string, unknown>[]) : null;
  require(positions !== null &&
    positions.length <= 10_000 &&
    positions.every(
      (p) =>
        p !== null &&
        typeof p === 'object' &&
        typeof p.topic === 'string' &&
        p.topic.length <= 249 &&
        isCount(p.partition) &&
        typeof p.next === 'string' &&
        OFFSET.test(p.next) &&
        isCount(p.lag),
    ), 'positions', 'must be a list of { topic, partition, next, lag }');
  if (problems.length > 0) return { ok: false, reason: joinProblems(problems) };
  return {
    ok: true,
    heartbeat: {
      kind: GATEWAY_HEARTBEAT,
      gatewayId: raw.gatewayId as string,
      dc: raw.dc as string,
      version: raw.version as string,
      state: raw.state as string,
      startedAt: raw.startedAt as string,
      at: raw.at as string,
      positions: positions!.map((p) => ({
        topic: p.topic as string,
        partition: p.partition as number,
        next: p.next as string,
        lag: p.lag as number,
      })),
      lag: raw.lag as number,
      digest: raw.digest as string,
      lastEventAt: raw.lastEventAt as string | null,
    },
  };
}
