import { EVENT_CATALOGUE, EVENT_TYPES } from '../catalogue';
import { upcast, UPCASTERS, UpcastError, upcastStoredPayload } from './index';

const V1 = {
  name: 'Payments',
  version: 'v1',
  context: '/payments',
  upstreamUrl: 'https://payments.internal',
  operations: [{ method: '*', path: '/*', auth: 'apikey' }],
  tiers: ['Gold'],
};

describe('upcasting', () => {
  it('turns api.created v1 into v2 with one upstream and the documented defaults', () => {
    expect(upcast('api.created', 1, V1)).toEqual({
      schemaVersion: 2,
      payload: {
        name: 'Payments',
        version: 'v1',
        context: '/payments',
        upstreamUrls: ['https://payments.internal'],
        upstreamTimeoutMs: 30000,
        operations: [{ method: '*', path: '/*', auth: 'apikey' }],
        tiers: ['Gold'],
        visibility: 'public',
      },
    });
  });

  it('turns region.fenced v1 into v2 without a successor', () => {
    expect(upcast('region.fenced', 1, { dc: 'dc1', epoch: 3 })).toEqual({
      schemaVersion: 2,
      payload: { dc: 'dc1', epoch: 3, successor: null, eventsBefore: null },
    });
  });

  it('leaves the v1 payload as it was', () => {
    const copy = structuredClone(V1);
    upcast('api.created', 1, V1);
    expect(V1).toEqual(copy);
  });

  it('returns a current payload as it is', () => {
    const payload = { roles: ['ADMIN'] };
    expect(upcast('user.roles-changed', 1, payload)).toEqual({ schemaVersion: 1, payload });
  });

  it('has an upcaster for every version below the current one, and none beyond', () => {
    for (const type of EVENT_TYPES) {
      const { current } = EVENT_CATALOGUE[type];
      expect(Object.keys(UPCASTERS[type] ?? {}).map(Number)).toEqual(Array.from({ length: current - 1 }, (_, i) => i + 1));
    }
    expect(Object.keys(UPCASTERS).filter((type) => !(EVENT_TYPES as string[]).includes(type))).toEqual([]);
  });

  it('refuses an unknown type or version', () => {
    expect(() => upcast('api.exploded', 1, {})).toThrow(UpcastError);
    expect(() => upcast('api.created', 3, {})).toThrow(/no schemaVersion 3/);
    expect(() => upcast('api.created', 0, {})).toThrow(UpcastError);
  });

  it('leaves a stored event of a type it does not know alone', () => {
    expect(upcastStoredPayload('api.exploded', 1, { a: 1 })).toEqual({ schemaVersion: 1, payload: { a: 1 } });
    expect(upcastStoredPayload('api.created', 1, V1).schemaVersion).toBe(2);
  });
});
