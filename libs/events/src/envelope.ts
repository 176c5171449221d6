/** Kinds of aggregate streams. */
export const STREAM_TYPES = [
  'api',
  'policy',
  'application',
  'subscription',
  'apikey',
  'oauth-client',
  'token',
  'signing-key',
  'user',
  'region',
  'divergence',
] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/**
 * An event as stored and as carried on Kafka (DESIGN.md section 4; docs/events.md).
 * `payload` is the event type's data at `schemaVersion`.
 */
export interface EventEnvelope<T = unknown> {
  eventId: string;
  type: string;
  schemaVersion: number;
  streamId: string;
  streamType: StreamType;
  version: number;
  originDc: string;
  epoch: number;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  actor: string | null;
  payload: T;
}

/** Kafka header names that repeat envelope fields, so consumers can filter without parsing. */
export const HEADERS = { type: 'type', originDc: 'originDc', epoch: 'epoch', schemaVersion: 'schemaVersion' } as const;
