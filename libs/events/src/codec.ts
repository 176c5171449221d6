import 'reflect-metadata';
import { catalogueEntry, isIsoDateTime } from './catalogue';
import { joinProblems, validatePayload } from './catalogue/payload-validation';
import { EventEnvelope, HEADERS, STREAM_TYPES, StreamType } from './envelope';
import { isUuid } from './event-id';
import { upcast } from './upcasters';

export { isUuid, newEventId } from './event-id';

/** The outcome of checking an envelope or a record: the event at its current schema version, or why it was refused. */
export type DecodeResult = { ok: true; envelope: EventEnvelope } | { ok: false; reason: string };

/** A Kafka record as kafkajs hands it over (and as the tests build it). */
export interface EventRecord {
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** A record ready for `producer.send`. */
export interface EncodedEvent {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

const ENVELOPE_FIELDS = [
  'eventId',
  'type',
  'schemaVersion',
  'streamId',
  'streamType',
  'version',
  'originDc',
  'epoch',
  'occurredAt',
  'correlationId',
  'causationId',
  'actor',
  'payload',
] as const satisfies readonly (keyof EventEnvelope)[];

const DC_ID = /^[a-z][a-z0-9]{0,15}$/;
const MAX_STREAM_ID_LENGTH = 200;
/** How an event type may be quoted back in a reason; anything else is not echoed. */
const QUOTABLE_TYPE = /^[a-z0-9][a-z0-9.-]{0,63}$/;

/**
 * Checks an envelope against DESIGN.md section 4 and the catalogue, then its
 * payload against the rules of its type at its schema version, upcasts the
 * payload to the current version and checks it again there. Returns a fresh
 * envelope holding only the envelope fields, at the current schema version.
 *
 * Never throws. Reasons name fields and rules, never a payload value.
 */
export function validateEnvelope(candidate: unknown): DecodeResult {
  try {
    return check(candidate);
  } catch {
    return { ok: false, reason: 'envelope: could not be checked (malformed or too deeply nested)' };
  }
}

function check(candidate: unknown): DecodeResult {
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) return refuse(['envelope: must be a JSON object']);
  const raw = candidate as Record<string, unknown>;
  const unknownFields = Object.keys(raw).filter((key) => !(ENVELOPE_FIELDS as readonly string[]).includes(key));
  if (unknownFields.length > 0)
    return refuse(unknownFields.map((key) => `envelope.${/^[A-Za-z_]\w{0,63}$/.test(key) ? key : '<unnamed>'}: is not allowed`));

  const problems = envelopeProblems(raw);
  if (problems.length > 0) return refuse(problems);

  const type = raw.type as string;
  const entry = catalogueEntry(type);
  if (!entry) return refuse([QUOTABLE_TYPE.test(type) ? `unknown event type '${type}'` : 'envelope.type: is not a known event type']);
  const schemaVersion = raw.schemaVersion as number;
  if (!Object.prototype.hasOwnProperty.call(entry.versions, schemaVersion)) {
    return refuse([
      `envelope.schemaVersion: ${schemaVersion} is not a known version of '${type}' (known: ${Object.keys(entry.versions).join(', ')})`,
    ]);
  }
  if (raw.streamType !== entry.streamType) return refuse([`envelope.streamType: must be '${entry.streamType}' for '${type}'`]);
  if (!('payload' in raw)) return refuse(['payload: is required']);

  const asWritten = validatePayload(type, schemaVersion, raw.payload);
  if (asWritten.length > 0) return refuse(asWritten, schemaVersion < entry.current ? ` (schemaVersion ${schemaVersion})` : '');

  let latest: { schemaVersion: number; payload: unknown };
  try {
    latest = upcast(type, schemaVersion, raw.payload);
  } catch {
    return refuse([`payload: cannot be upcast from schemaVersion ${schemaVersion} to ${entry.current}`]);
  }
  if (latest.schemaVersion !== schemaVersion) {
    const afterUpcast = validatePayload(type, latest.schemaVersion, latest.payload);
    if (afterUpcast.length > 0) return refuse(afterUpcast, ` (after upcasting from schemaVersion ${schemaVersion})`);
  }

  return {
    ok: true,
    envelope: {
      eventId: raw.eventId as string,
      type,
      schemaVersion: latest.schemaVersion,
      streamId: raw.streamId as string,
      streamType: raw.streamType as StreamType,
      version: raw.version as number,
      originDc: raw.originDc as string,
      epoch: raw.epoch as number,
      occurredAt: raw.occurredAt as string,
      correlationId: raw.correlationId as string,
      causationId: raw.causationId as string | null,
      actor: raw.actor as string | null,
      payload: latest.payload,
    },
  };
}

function envelopeProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const require = (ok: boolean, field: string, rule: string) => {
    if (!ok) problems.push(`envelope.${field}: ${rule}`);
  };
  const isInt = (value: unknown, min: number) => Number.isSafeInteger(value) && (value as number) >= min;
  const isNonEmptyString = (value: unknown) => typeof value === 'string' && value.length > 0;
  const isStringOrNull = (value: unknown) => value === null || typeof value === 'string';

  require(isUuid(raw.eventId), 'eventId', 'must be a UUID');
  require(isNonEmptyString(raw.type), 'type', 'must be a non-empty string');
  require(isInt(raw.schemaVersion, 1), 'schemaVersion', 'must be an integer >= 1');
  require(isNonEmptyString(raw.streamId) &&
    (raw.streamId as string).length <= MAX_STREAM_ID_LENGTH, 'streamId', `must be a string of 1..${MAX_STREAM_ID_LENGTH} characters`);
  require((STREAM_TYPES as readonly unknown[]).includes(raw.streamType), 'streamType', `must be one of ${STREAM_TYPES.join(', ')}`);
  require(isInt(raw.version, 1), 'version', 'must be an integer >= 1');
  require(typeof raw.originDc === 'string' && DC_ID.test(raw.originDc), 'originDc', `must match ${DC_ID.source}`);
  require(isInt(raw.epoch, 0), 'epoch', 'must be an integer >= 0');
  require(isIsoDateTime(raw.occurredAt), 'occurredAt', 'must be an ISO-8601 date-time with an offset');
  require(isNonEmptyString(raw.correlationId), 'correlationId', 'must be a non-empty string');
  require(isStringOrNull(raw.causationId), 'causationId', 'must be a string or null');
  require(isStringOrNull(raw.actor), 'actor', 'must be a string or null');
  return problems;
}

function refuse(problems: string[], suffix = ''): { ok: false; reason: string } {
  return { ok: false, reason: joinProblems(problems) + suffix };
}

/**
 * The Kafka record of an event: key = streamId (one stream, one partition, in
 * order), value = the envelope as JSON (envelope fields only), and headers
 * repeating type, originDc, epoch and schemaVersion for filtering without
 * parsing. Does not validate: a writer checks with `validateEnvelope` before
 * appending, and a reader refuses what is invalid.
 */
export function encodeEvent(envelope: EventEnvelope): EncodedEvent {
  const wire: Record<string, unknown> = {};
  for (const field of ENVELOPE_FIELDS) wire[field] = envelope[field];
  return {
    key: envelope.streamId,
    value: Buffer.from(JSON.stringify(wire), 'utf8'),
    headers: {
      [HEADERS.type]: envelope.type,
      [HEADERS.originDc]: envelope.originDc,
      [HEADERS.epoch]: String(envelope.epoch),
      [HEADERS.schemaVersion]: String(envelope.schemaVersion),
    },
  };
}

/**
 * Reads a Kafka record back into an event at its type's current schema version
 * (older versions are upcast). Headers are optional, but one that is present
 * must agree with the envelope, since consumers filter on them. Never throws:
 * a missing value, bad JSON or an invalid event becomes a reason for the DLQ.
 */
export function decodeEvent(record: EventRecord): DecodeResult {
  try {
    if (record.value === null || record.value === undefined) return { ok: false, reason: 'record has no value' };
    const text = typeof record.value === 'string' ? record.value : Buffer.from(record.value).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'value is not valid JSON' };
    }
    const result = validateEnvelope(parsed);
    if (!result.ok) return result;
    const mismatch = headerMismatch(record.headers, parsed as Record<string, unknown>);
    return mismatch ? { ok: false, reason: mismatch } : result;
  } catch {
    return { ok: false, reason: 'record could not be decoded' };
  }
}

/** The first header that contradicts the envelope as written (before upcasting), or null. */
function headerMismatch(headers: EventRecord['headers'], written: Record<string, unknown>): string | null {
  if (!headers) return null;
  for (const field of ['type', 'originDc', 'epoch', 'schemaVersion'] as const) {
    const value = headerValue(headers[HEADERS[field]]);
    if (value !== undefined && value !== String(written[field])) return `header '${HEADERS[field]}' does not match envelope.${field}`;
  }
  return null;
}

function headerValue(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : Buffer.from(first).toString('utf8');
}
