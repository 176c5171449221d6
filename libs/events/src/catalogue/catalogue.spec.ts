import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_CATALOGUE, EVENT_TYPES, EventType, isEventType, payloadClass } from './index';
import { validatePayload } from './payload-validation';

const HASH = 'a3f1c9e0b7d24f6a8e5c1b0d9f7a6e5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e';
const LATER = '2031-06-30T12:00:00.000Z';

const OPERATION = { method: 'GET', path: '/charges/{id}', auth: 'apikey' };
const API_V2 = {
  name: 'Payments',
  version: 'v1',
  context: '/eu/payments',
  upstreamUrls: ['https://payments.internal:8443/api', 'http://payments-2'],
  upstreamTimeoutMs: 30_000,
  operations: [OPERATION, { method: '*', path: '/*', auth: 'none' }],
  tiers: ['Gold', 'Silver'],
  visibility: 'public',
};
const JWK = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };

/** One valid payload per event type at its current version, and invalid variants with the reason each must give. */
const CASES: Record<EventType, { valid: object; invalid: [string, object, string][] }> = {
  'api.created': {
    valid: API_V2,
    invalid: [
      ['an ftp upstream', { ...API_V2, upstreamUrls: ['https://ok', 'ftp://files'] }, 'payload.upstreamUrls[1]: must be a URL address'],
      ['no upstream', { ...API_V2, upstreamUrls: [] }, 'payload.upstreamUrls: must contain at least 1 elements'],
      ['a timeout below 100 ms', { ...API_V2, upstreamTimeoutMs: 99 }, 'payload.upstreamTimeoutMs: must not be less than 100'],
      ['a timeout above 300 s', { ...API_V2, upstreamTimeoutMs: 300_001 }, 'payload.upstreamTimeoutMs: must not be greater than 300000'],
      ['a timeout as a string', { ...API_V2, upstreamTimeoutMs: '30000' }, 'payload.upstreamTimeoutMs: must be an integer number'],
      [
        'a bad method',
        { ...API_V2, operations: [OPERATION, { ...OPERATION, method: 'TRACE' }] },
        'payload.operations[1].method: must be one of',
      ],
      [
        'a relative path',
        { ...API_V2, operations: [{ ...OPERATION, path: 'charges' }] },
        'payload.operations[0].path: must be a path template',
      ],
      [
        'an unknown operation field',
        { ...API_V2, operations: [{ ...OPERATION, timeout: 5 }] },
        'payload.operations[0].timeout: is not allowed',
      ],
      ['an operation that is not an object', { ...API_V2, operations: ['GET /'] }, 'payload.operations[0]: must be an object'],
      ['no tier', { ...API_V2, tiers: [] }, 'payload.tiers: must contain at least 1 elements'],
      ['an unknown visibility', { ...API_V2, visibility: 'internal' }, 'payload.visibility: must be one of'],
      ['a context with capitals', { ...API_V2, context: '/Payments' }, 'payload.context: must be / followed by'],
      ['a context without its slash', { ...API_V2, context: 'payments' }, 'payload.context: must be / followed by'],
      ['a long version', { ...API_V2, version: 'v'.repeat(33) }, 'payload.version: must be 1..32'],
      ['a missing name', { ...API_V2, name: undefined }, 'payload.name: must be a string'],
      ['the v1 upstreamUrl', { ...API_V2, upstreamUrl: 'https://x' }, 'payload.upstreamUrl: is not allowed'],
    ],
  },
  'api.updated': {
    valid: { upstreamUrls: ['https://new.internal'], visibility: 'private' },
    invalid: [
      ['no field', {}, 'payload: must contain at least one of name, upstreamUrls, upstreamTimeoutMs, operations, tiers, visibility'],
      ['a field API updates cannot change', { context: '/other' }, 'payload.context: is not allowed'],
      ['an empty tier list', { tiers: [] }, 'payload.tiers: must contain at least 1 elements'],
      ['a timeout out of range', { upstreamTimeoutMs: 50 }, 'payload.upstreamTimeoutMs: must not be less than 100'],
      ['a bad upstream', { upstreamUrls: ['not a url'] }, 'payload.upstreamUrls[0]: must be a URL address'],
    ],
  },
  'api.published': { valid: {}, invalid: [['any field', { reason: 'go' }, 'payload.reason: is not allowed']] },
  'api.deprecated': { valid: {}, invalid: [['any field', { at: LATER }, 'payload.at: is not allowed']] },
  'api.retired': { valid: {}, invalid: [['an array', [], 'payload: must be a JSON object']] },
  'api.blocked': { valid: {}, invalid: [['null', null as unknown as object, 'payload: must be a JSON object']] },
  'api.unblocked': { valid: {}, invalid: [['any field', { x: 1 }, 'payload.x: is not allowed']] },
  'policy.created': {
    valid: { name: 'Gold', requestsPerMinute: 20000, burst: 2000, unlimited: false },
    invalid: [
      [
        'no requests per minute',
        { name: 'Zero', requestsPerMinute: 0, burst: 0, unlimited: false },
        'payload.requestsPerMinute: must not be less than 1',
      ],
      ['a negative burst', { name: 'Neg', requestsPerMinute: 1, burst: -1, unlimited: false }, 'payload.burst: must not be less than 0'],
      [
        'unlimited as a string',
        { name: 'U', requestsPerMinute: 1, burst: 0, unlimited: 'true' },
        'payload.unlimited: must be a boolean value',
      ],
    ],
  },
  'policy.deleted': {
    valid: { name: 'Gold' },
    invalid: [['no name', {}, 'payload.name: must be a string']],
  },
  'application.created': {
    valid: { ownerId: 'user:alice', name: 'Shop', policy: 'Unlimited' },
    invalid: [['an owner that is not a string', { ownerId: 5, name: 'Shop', policy: 'Gold' }, 'payload.ownerId: must be a string']],
  },
  'application.deleted': { valid: {}, invalid: [['any field', { name: 'Shop' }, 'payload.name: is not allowed']] },
  'subscription.created': {
    valid: { applicationId: '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b', apiId: '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7c', tier: 'Gold' },
    invalid: [['no tier', { applicationId: 'a', apiId: 'b' }, 'payload.tier: must be a string']],
  },
  'subscription.blocked': { valid: {}, invalid: [['any field', { tier: 'Gold' }, 'payload.tier: is not allowed']] },
  'subscription.unblocked': { valid: {}, invalid: [['any field', { tier: 'Gold' }, 'payload.tier: is not allowed']] },
  'subscription.removed': { valid: {}, invalid: [['any field', { tier: 'Gold' }, 'payload.tier: is not allowed']] },
  'subscription.tier-changed': {
    valid: { tier: 'Gold' },
    invalid: [
      ['no tier', {}, 'payload.tier: must be a string'],
      ['another field', { tier: 'Gold', apiId: 'b' }, 'payload.apiId: is not allowed'],
    ],
  },
  'apikey.generated': {
    valid: { applicationId: 'app-1', keyHash: HASH, prefix: 'ak_live1', expiresAt: null },
    invalid: [
      [
        'an upper-case hash',
        { applicationId: 'a', keyHash: HASH.toUpperCase(), prefix: 'ak_1', expiresAt: null },
        'payload.keyHash: must be a sha256 digest',
      ],
      [
        'a short prefix',
        { applicationId: 'a', keyHash: HASH, prefix: 'ak', expiresAt: null },
        'payload.prefix: must be longer than or equal to 4 characters',
      ],
      [
        'a long prefix',
        { applicationId: 'a', keyHash: HASH, prefix: 'ak_live_12345', expiresAt: null },
        'payload.prefix: must be shorter than or equal to 12',
      ],
      ['no expiry at all', { applicationId: 'a', keyHash: HASH, prefix: 'ak_1' }, 'payload.expiresAt: must be an ISO-8601 date-time'],
      [
        'a plain key',
        { applicationId: 'a', keyHash: HASH, prefix: 'ak_1', expiresAt: null, key: 'ak_1.secret' },
        'payload.key: is not allowed',
      ],
    ],
  },
  'apikey.revoked': { valid: { applicationId: 'app-1' }, invalid: [['no application', {}, 'payload.applicationId: must be a string']] },
  'oauth-client.registered': {
    valid: { applicationId: 'app-1', secretHash: HASH },
    invalid: [
      ['a short hash', { applicationId: 'a', secretHash: HASH.slice(1) }, 'payload.secretHash: must be a sha256 digest'],
      ['a plain secret', { applicationId: 'a', secretHash: HASH, clientSecret: 's3cr3t' }, 'payload.clientSecret: is not allowed'],
    ],
  },
  'oauth-client.revoked': {
    valid: { applicationId: 'app-1' },
    invalid: [['no application', {}, 'payload.applicationId: must be a string']],
  },
  'token.revoked': {
    valid: { jti: 'jti-1', expiresAt: '2031-06-30T14:00:00+02:00', applicationId: null },
    invalid: [
      [
        'a date without time',
        { jti: 'j', expiresAt: '2031-06-30', applicationId: null },
        'payload.expiresAt: must be an ISO-8601 date-time',
      ],
      [
        'a local time',
        { jti: 'j', expiresAt: '2031-06-30T12:00:00', applicationId: null },
        'payload.expiresAt: must be an ISO-8601 date-time',
      ],
      [
        'an impossible date',
        { jti: 'j', expiresAt: '2031-13-45T12:00:00Z', applicationId: null },
        'payload.expiresAt: must be an ISO-8601 date-time',
      ],
      ['a missing application', { jti: 'j', expiresAt: LATER }, 'payload.applicationId: must be a string'],
    ],
  },
  'signing-key.rotated': {
    valid: { kid: 'dc1-2031-06', alg: 'ES256', publicJwk: JWK, activeFrom: LATER },
    invalid: [
      [
        'the private part',
        { kid: 'k', alg: 'ES256', publicJwk: { ...JWK, d: 'private' }, activeFrom: LATER },
        'payload.publicJwk.d: is not allowed',
      ],
      [
        'another curve',
        { kid: 'k', alg: 'ES256', publicJwk: { ...JWK, crv: 'P-384' }, activeFrom: LATER },
        'payload.publicJwk.crv: must be one of',
      ],
      ['another algorithm', { kid: 'k', alg: 'RS256', publicJwk: JWK, activeFrom: LATER }, 'payload.alg: must be one of'],
      ['no key', { kid: 'k', alg: 'ES256', activeFrom: LATER }, 'payload.publicJwk: must be an object'],
    ],
  },
  'user.registered': {
    valid: { username: 'alice', passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA', roles: ['DEVELOPER'] },
    invalid: [
      ['a plain password', { username: 'bob', passwordHash: 'hunter2', roles: ['ADMIN'] }, 'payload.passwordHash: must be an scrypt hash'],
      ['no role', { username: 'bob', passwordHash: 'scrypt$1$1$1$a$b', roles: [] }, 'payload.roles: must contain at least 1 elements'],
    ],
  },
  'application.updated': {
    valid: { name: 'Shop', policy: 'Gold' },
    invalid: [
      ['an empty name', { name: '', policy: 'Gold' }, 'payload.name: must be longer than or equal to 1 characters'],
      ['no policy', { name: 'Shop' }, 'payload.policy: must be a string'],
    ],
  },
  'policy.updated': {
    valid: { name: 'Gold', requestsPerMinute: 30000, burst: 3000, unlimited: false },
    invalid: [
      ['no rate', { name: 'Gold', requestsPerMinute: 0, burst: 0, unlimited: false }, 'payload.requestsPerMinute: must not be less than 1'],
      ['no name', { requestsPerMinute: 1, burst: 0, unlimited: false }, 'payload.name: must be a string'],
    ],
  },
  'user.deactivated': { valid: {}, invalid: [['any field', { reason: 'left' }, 'payload.reason: is not allowed']] },
  'user.reactivated': { valid: {}, invalid: [['any field', { by: 'x' }, 'payload.by: is not allowed']] },
  'user.password-changed': {
    valid: { passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA' },
    invalid: [['a plain password', { passwordHash: 'correct horse battery' }, 'payload.passwordHash: must be an scrypt hash']],
  },
  'user.roles-changed': {
    valid: { roles: ['ADMIN', 'PUBLISHER'] },
    invalid: [
      ['an unknown role', { roles: ['ADMIN', 'ROOT'] }, 'payload.roles[1]: must be one of ADMIN, PUBLISHER, DEVELOPER'],
      ['roles as a string', { roles: 'ADMIN' }, 'payload.roles: must be an array'],
    ],
  },
  'region.promoted': {
    valid: { dc: 'dc2', epoch: 2, previousPrimary: 'dc1' },
    invalid: [
      ['epoch 0', { dc: 'dc2', epoch: 0, previousPrimary: null }, 'payload.epoch: must not be less than 1'],
      ['a missing previous primary', { dc: 'dc2', epoch: 1 }, 'payload.previousPrimary: must be a string'],
    ],
  },
  'region.fenced': {
    valid: { dc: 'dc1', epoch: 2, successor: 'dc2', eventsBefore: 1234 },
    invalid: [
      ['a fractional epoch', { dc: 'dc1', epoch: 1.5, successor: null, eventsBefore: null }, 'payload.epoch: must be an integer number'],
      ['a missing successor', { dc: 'dc1', epoch: 1, eventsBefore: null }, 'payload.successor: must be a string'],
      [
        'a negative event count',
        { dc: 'dc1', epoch: 1, successor: 'dc2', eventsBefore: -1 },
        'payload.eventsBefore: must not be less than 0',
      ],
    ],
  },
  'divergence.recorded': {
    valid: {
      eventId: '0192f3a4-5b6c-7d8e-9f01-23456789abcd',
      streamId: 'api:x',
      streamType: 'api',
      version: 3,
      type: 'api.updated',
      originDc: 'dc1',
      epoch: 1,
      fencedInEpoch: 2,
    },
    invalid: [
      [
        'an unknown stream type',
        {
          eventId: '0192f3a4-5b6c-7d8e-9f01-23456789abcd',
          streamId: 'x',
          streamType: 'nope',
          version: 1,
          type: 'a.b',
          originDc: 'dc1',
          epoch: 1,
          fencedInEpoch: 2,
        },
        'payload.streamType: must be one of the following values',
      ],
    ],
  },
};

describe('the event catalogue', () => {
  it('holds exactly the types and versions of docs/events.md', () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/events.md'), 'utf8');
    const documented: string[] = [];
    let type = '';
    for (const row of doc.matchAll(/^\|\s*(?:`([a-z.-]+)`)?\s*\|\s*(\d+)\s*\|/gm)) {
      type = row[1] ?? type;
      documented.push(`${type}@${row[2]}`);
    }
    const catalogued = EVENT_TYPES.flatMap((t) => Object.keys(EVENT_CATALOGUE[t].versions).map((v) => `${t}@${v}`));
    expect(catalogued.sort()).toEqual(documented.sort());
  });

  it('numbers every type 1..current', () => {
    for (const type of EVENT_TYPES) {
      const { current, versions } = EVENT_CATALOGUE[type];
      expect(Object.keys(versions).map(Number)).toEqual(Array.from({ length: current }, (_, i) => i + 1));
    }
  });

  it('knows only its own types', () => {
    expect(isEventType('api.created')).toBe(true);
    expect(isEventType('constructor')).toBe(false);
    expect(isEventType('toString')).toBe(false);
    expect(payloadClass('api.created', 3)).toBeUndefined();
    expect(payloadClass('api.created', 0)).toBeUndefined();
  });

  it('has a test case for every type', () => {
    expect(Object.keys(CASES).sort()).toEqual([...EVENT_TYPES].sort());
  });

  describe.each(EVENT_TYPES)('%s', (type) => {
    const { current } = EVENT_CATALOGUE[type];
    const { valid, invalid } = CASES[type];

    it('accepts a valid payload', () => {
      expect(validatePayload(type, current, valid)).toEqual([]);
    });

    it.each(invalid)('refuses %s', (_what, payload, reason) => {
      const problems = validatePayload(type, current, payload);
      expect(problems.join('; ')).toContain(reason);
    });
  });

  it('accepts api.updated with only one field', () => {
    expect(validatePayload('api.updated', 1, { name: 'Renamed' })).toEqual([]);
    expect(validatePayload('api.updated', 1, { operations: [] })).toEqual([]);
  });

  it('accepts the v1 shape of region.fenced (no successor) at v1 only', () => {
    expect(validatePayload('region.fenced', 1, { dc: 'dc1', epoch: 1 })).toEqual([]);
    expect(validatePayload('region.fenced', 2, { dc: 'dc1', epoch: 1 }).join('; ')).toContain('payload.successor');
  });

  it('accepts the v1 shape of api.created at v1 only', () => {
    const v1 = { name: 'P', version: 'v1', context: '/p', upstreamUrl: 'http://up:8080', operations: [OPERATION], tiers: ['Gold'] };
    expect(validatePayload('api.created', 1, v1)).toEqual([]);
    expect(validatePayload('api.created', 2, v1).join('; ')).toContain('payload.upstreamUrl: is not allowed');
  });

  it('refuses a __proto__ key at any depth', () => {
    const payload = JSON.parse(`{ "roles": ["ADMIN"], "__proto__": { "polluted": true } }`);
    expect(validatePayload('user.roles-changed', 1, payload)).toEqual(['payload: must not contain a __proto__ key']);
    const nested = JSON.parse(`{ "kid": "k", "alg": "ES256", "publicJwk": { "__proto__": {} }, "activeFrom": "${LATER}" }`);
    expect(validatePayload('signing-key.rotated', 1, nested)).toEqual(['payload: must not contain a __proto__ key']);
  });

  it('names fields and rules but never a value', () => {
    const problems = validatePayload('apikey.generated', 1, {
      applicationId: 7,
      keyHash: HASH.toUpperCase(),
      prefix: HASH,
      expiresAt: HASH,
    });
    expect(problems.length).toBe(4);
    for (const problem of problems) {
      expect(problem).not.toContain(HASH);
      expect(problem).not.toContain(HASH.toUpperCase());
    }
  });
});
