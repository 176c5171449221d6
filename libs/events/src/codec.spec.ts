import { decodeEvent, encodeEvent, validateEnvelope } from './codec';
import { isEventOf } from './catalogue';
import { EventEnvelope } from './envelope';
import { newEventId } from './event-id';

const HASH = '9b74c9897bac770ffc029102a200c5de9b74c9897bac770ffc029102a200c5de';

function envelope(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    eventId: newEventId(),
    type: 'policy.created',
    schemaVersion: 1,
    streamId: 'policy:gold',
    streamType: 'policy',
    version: 1,
    originDc: 'dc1',
    epoch: 1,
    occurredAt: '2031-06-30T12:00:00.123Z',
    correlationId: 'corr-1',
    causationId: null,
    actor: 'system',
    payload: { name: 'Gold', requestsPerMinute: 20000, burst: 2000, unlimited: false },
    ...overrides,
  };
}

const API_V1 = {
  name: 'Payments',
  version: 'v1',
  context: '/payments',
  upstreamUrl: 'https://payments.internal',
  operations: [{ method: '*', path: '/*', auth: 'apikey' }],
  tiers: ['Gold'],
};
const apiCreatedV1 = () => envelope({ type: 'api.created', schemaVersion: 1, streamId: newEventId(), streamType: 'api', payload: API_V1 });

function reasonOf(candidate: unknown): string {
  const result = validateEnvelope(candidate);
  if (result.ok) throw new Error('expected a refusal');
  return result.reason;
}

describe('validateEnvelope', () => {
  it('accepts a valid event and returns only the envelope fields', () => {
    const event = envelope();
    expect(validateEnvelope({ ...event })).toEqual({ ok: true, envelope: event });
  });

  it('refuses an unknown event type', () => {
    expect(reasonOf(envelope({ type: 'api.exploded' }))).toBe("unknown event type 'api.exploded'");
  });

  it('does not echo a type that does not look like one', () => {
    expect(reasonOf(envelope({ type: `x ${HASH}` }))).toBe('envelope.type: is not a known event type');
  });

  it('refuses an unknown schemaVersion', () => {
    expect(reasonOf(envelope({ schemaVersion: 2 }))).toBe(
      "envelope.schemaVersion: 2 is not a known version of 'policy.created' (known: 1)",
    );
  });

  it('refuses a streamType other than the catalogue one', () => {
    expect(reasonOf(envelope({ streamType: 'api' }))).toBe("envelope.streamType: must be 'policy' for 'policy.created'");
  });

  it.each([
    ['eventId', 'not-a-uuid', 'envelope.eventId: must be a UUID'],
    ['schemaVersion', 0, 'envelope.schemaVersion: must be an integer >= 1'],
    ['streamId', '', 'envelope.streamId: must be a string of 1..200 characters'],
    ['streamId', 's'.repeat(201), 'envelope.streamId: must be a string of 1..200 characters'],
    ['streamType', 'galaxy', 'envelope.streamType: must be one of'],
    ['version', 0, 'envelope.version: must be an integer >= 1'],
    ['version', 1.5, 'envelope.version: must be an integer >= 1'],
    ['version', '1', 'envelope.version: must be an integer >= 1'],
    ['originDc', 'DC-1', 'envelope.originDc: must match'],
    ['originDc', '1dc', 'envelope.originDc: must match'],
    ['epoch', -1, 'envelope.epoch: must be an integer >= 0'],
    ['occurredAt', 'yesterday', 'envelope.occurredAt: must be an ISO-8601 date-time'],
    ['correlationId', '', 'envelope.correlationId: must be a non-empty string'],
    ['causationId', undefined, 'envelope.causationId: must be a string or null'],
    ['actor', 7, 'envelope.actor: must be a string or null'],
  ])('refuses a bad %s (%p)', (field, value, reason) => {
    expect(reasonOf({ ...envelope(), [field]: value })).toContain(reason);
  });

  it('accepts epoch 0 and a causation id', () => {
    expect(validateEnvelope(envelope({ epoch: 0, causationId: newEventId(), actor: null })).ok).toBe(true);
  });

  it('refuses an unknown envelope field and a missing payload', () => {
    expect(reasonOf({ ...envelope(), metadata: {} })).toBe('envelope.metadata: is not allowed');
    const { payload: _payload, ...bare } = envelope();
    expect(reasonOf(bare)).toBe('payload: is required');
  });

  it('names every bad envelope field at once', () => {
    expect(reasonOf({ ...envelope(), version: 0, epoch: -1 })).toBe(
      'envelope.version: must be an integer >= 1; envelope.epoch: must be an integer >= 0',
    );
  });

  it('refuses unknown payload properties', () => {
    expect(reasonOf(envelope({ payload: { name: 'Gold', requestsPerMinute: 1, burst: 0, unlimited: false, rate: 5 } }))).toBe(
      'payload.rate: is not allowed',
    );
  });

  it('upcasts an old schemaVersion to the current one', () => {
    const result = validateEnvelope(apiCreatedV1());
    expect(result.ok && result.envelope.schemaVersion).toBe(2);
    expect(result.ok && result.envelope.payload).toMatchObject({
      upstreamUrls: ['https://payments.internal'],
      upstreamTimeoutMs: 30000,
      visibility: 'public',
    });
  });

  it('checks an old payload against its own version, then the upcast one against the current', () => {
    expect(reasonOf({ ...apiCreatedV1(), payload: { ...API_V1, upstreamUrl: 'mailto:x' } })).toBe(
      'payload.upstreamUrl: must be a URL address (schemaVersion 1)',
    );
    expect(reasonOf({ ...apiCreatedV1(), payload: { ...API_V1, tiers: [] } })).toBe(
      'payload.tiers: must contain at least 1 elements (after upcasting from schemaVersion 1)',
    );
  });

  it('never throws, whatever it is given', () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { x: deep };
    for (const candidate of [null, undefined, 42, 'event', [], envelope({ payload: deep }), envelope({ payload: [1] })]) {
      expect(() => validateEnvelope(candidate)).not.toThrow();
      expect(validateEnvelope(candidate).ok).toBe(false);
    }
  });
});

describe('encodeEvent and decodeEvent', () => {
  it('round-trip an event with its key and headers', () => {
    const event = envelope();
    const record = encodeEvent(event);
    expect(record.key).toBe('policy:gold');
    expect(record.headers).toEqual({ type: 'policy.created', originDc: 'dc1', epoch: '1', schemaVersion: '1' });
    expect(JSON.parse(record.value.toString('utf8'))).toEqual(event);
    expect(decodeEvent(record)).toEqual({ ok: true, envelope: event });
  });

  it('read headers as kafkajs gives them: buffers, or lists of them', () => {
    const record = encodeEvent(envelope());
    const headers = Object.fromEntries(Object.entries(record.headers).map(([name, value]) => [name, [Buffer.from(value)]]));
    expect(decodeEvent({ value: record.value, headers }).ok).toBe(true);
    expect(decodeEvent({ value: record.value }).ok).toBe(true);
  });

  it('refuse a record whose headers contradict its envelope', () => {
    const record = encodeEvent(envelope());
    expect(decodeEvent({ ...record, headers: { ...record.headers, type: 'api.published' } })).toEqual({
      ok: false,
      reason: "header 'type' does not match envelope.type",
    });
    expect(decodeEvent({ ...record, headers: { ...record.headers, epoch: Buffer.from('2') } }).ok).toBe(false);
  });

  it('encode only the envelope fields', () => {
    const record = encodeEvent({ ...envelope(), position: 12 } as EventEnvelope);
    expect(JSON.parse(record.value.toString())).not.toHaveProperty('position');
  });

  it('decode an api.created v1 record as v2', () => {
    const record = encodeEvent(apiCreatedV1());
    expect(record.headers.schemaVersion).toBe('1');
    const decoded = decodeEvent(record);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.envelope.schemaVersion).toBe(2);
    expect(decoded.envelope.payload).toEqual({
      name: 'Payments',
      version: 'v1',
      context: '/payments',
      upstreamUrls: ['https://payments.internal'],
      upstreamTimeoutMs: 30000,
      operations: [{ method: '*', path: '/*', auth: 'apikey' }],
      tiers: ['Gold'],
      visibility: 'public',
    });
  });

  it.each([
    ['a null value', { value: null }, 'record has no value'],
    ['bad JSON', { value: Buffer.from('{"eventId":') }, 'value is not valid JSON'],
    ['a string that is not JSON', { value: 'not json' }, 'value is not valid JSON'],
    ['JSON that is not an object', { value: Buffer.from('[1,2]') }, 'envelope: must be a JSON object'],
    ['JSON null', { value: Buffer.from('null') }, 'envelope: must be a JSON object'],
  ])('turn %s into a reason without throwing', (_what, record, reason) => {
    expect(decodeEvent(record as { value: Buffer | null })).toEqual({ ok: false, reason });
  });

  it('give reasons that never contain a payload value', () => {
    const base = envelope({
      type: 'apikey.generated',
      streamType: 'apikey',
      streamId: newEventId(),
      payload: { applicationId: HASH, keyHash: HASH, prefix: 'ak_1', expiresAt: null },
    });
    const bad = [
      { applicationId: HASH, keyHash: HASH.toUpperCase(), prefix: HASH, expiresAt: HASH },
      { applicationId: HASH, keyHash: HASH, prefix: 'ak_1', expiresAt: null, key: HASH },
      { applicationId: [HASH], keyHash: `${HASH}0`, prefix: 'ak_1', expiresAt: null },
    ];
    for (const payload of bad) {
      const decoded = decodeEvent(encodeEvent({ ...base, payload }));
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) {
        expect(decoded.reason).toMatch(/^payload\./);
        expect(decoded.reason.toLowerCase()).not.toContain(HASH);
      }
    }
  });
});

describe('isEventOf', () => {
  it('narrows a decoded envelope to its current payload type', () => {
    const decoded = decodeEvent(encodeEvent(apiCreatedV1()));
    if (!decoded.ok) throw new Error(decoded.reason);
    const env = decoded.envelope;
    expect(isEventOf(env, 'api.created') && env.payload.upstreamUrls).toEqual(['https://payments.internal']);
    expect(isEventOf(env, 'api.updated')).toBe(false);
  });
});
