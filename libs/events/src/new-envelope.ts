import { randomUUID } from 'node:crypto';
import { EVENT_CATALOGUE, EventType } from './catalogue';
import type { EventEnvelope } from './envelope';
import { newEventId } from './event-id';

/** Where a new event comes from: its DC, the region epoch it is written in, and who wrote it. */
export interface EnvelopeOrigin {
  originDc: string;
  epoch: number;
  actor?: string | null;
}

/**
 * A new event of the catalogue at its type's current schema version: fresh
 * event id and correlation id, `occurredAt` now. Does not validate: a writer
 * checks with `validateEnvelope` before sending.
 */
export function newEnvelope(type: EventType, streamId: string, version: number, payload: object, origin: EnvelopeOrigin): EventEnvelope {
  const entry = EVENT_CATALOGUE[type];
  return {
    eventId: newEventId(),
    type,
    schemaVersion: entry.current,
    streamId,
    streamType: entry.streamType,
    version,
    originDc: origin.originDc,
    epoch: origin.epoch,
    occurredAt: new Date().toISOString(),
    correlationId: randomUUID(),
    causationId: null,
    actor: origin.actor ?? null,
    payload,
  };
}
