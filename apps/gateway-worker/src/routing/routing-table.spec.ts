import { randomUUID } from 'node:crypto';
import { EventEnvelope, EventType, newEnvelope, sha256Hex } from '@apim/events';
import { RoutingTable } from './routing-table';

const versions = new Map<string, number>();
function event(type: EventType, streamId: string, payload: object): EventEnvelope {
  const version = (versions.get(streamId) ?? 0) + 1;
  versions.set(streamId, version);
  return newEnvelope(type, streamId, version, payload, { originDc: 'dc1', epoch: 1 });
}

function apiCreated(id: string, context = '/pay', operations = [{ method: '*', path: '/*', auth: 'apikey' }]): EventEnvelope {
  return event('api.created', id, {
    name: 'Pay',
    version: 'v1',
    context,
    upstreamUrls: ['http://u:1'],
    upstreamTimeoutMs: 1000,
    operations,
    tiers: ['Gold'],
    visibility: 'public',
  });
}

describe('the routing table', () => {
  it('resolves /{context}/{version}/rest, the longest context first', () => {
    const table = new RoutingTable();
    const short = randomUUID();
    const long = randomUUID();
    table.apply(apiCreated(short, '/eu'));
    table.apply(apiCreated(long, '/eu/pay'));
    expect(table.resolve('/eu/pay/v1/charges/1')).toMatchObject({ api: { id: long }, rest: '/charges/1' });
    expect(table.resolve('/eu/v1/x')).toMatchObject({ api: { id: short }, rest: '/x' });
    expect(table.resolve('/eu/pay/v1')).toMatchObject({ api: { id: long }, rest: '/' });
    expect(table.resolve('/other/v1/x')).toBeUndefined();
    expect(table.resolve('/eu/pay/v1/')).toMatchObject({ api: { id: long }, rest: '/' });
    expect(table.resolve('/eu/v1//x/')).toMatchObject({ api: { id: short }, rest: '//x/' });
    expect(table.resolve('/eu/pay/v2/x')).toBeUndefined();
    expect(table.resolve('/eu')).toBeUndefined();
    expect(table.resolve('/')).toBeUndefined();
  });

  it('drops a retired API from the routes, so its context and version can be reused', () => {
    const table = new RoutingTable();
    const old = randomUUID();
    table.apply(apiCreated(old));
    table.apply(event('api.published', old, {}));
    table.apply(event('api.retired', old, {}));
    expect(table.resolve('/pay/v1/x')).toBeUndefined();
    const successor = randomUUID();
    table.apply(apiCreated(successor));
    expect(table.resolve('/pay/v1/x')?.api.id).toBe(successor);
  });

  it('keeps a revoked key, marked, and forgets a removed subscription', () => {
    const table = new RoutingTable();
    const keyId = randomUUID();
    const hash = sha256Hex('k');
    table.apply(event('apikey.generated', keyId, { applicationId: 'a', keyHash: hash, prefix: 'apim_abc', expiresAt: null }));
    table.apply(event('apikey.revoked', keyId, { applicationId: 'a' }));
    expect(table.apiKey(hash)).toMatchObject({ keyId, revoked: true });
    table.apply(event('subscription.created', 'sub:a:b', { applicationId: 'a', apiId: 'b', tier: 'Gold' }));
    expect(table.subscription('a', 'b')?.state).toBe('ACTIVE');
    table.apply(event('subscription.blocked', 'sub:a:b', {}));
    expect(table.subscription('a', 'b')?.state).toBe('BLOCKED');
    table.apply(event('subscription.removed', 'sub:a:b', {}));
    expect(table.subscription('a', 'b')).toBeUndefined();
  });

  it('picks the most specific operation: literal over parameter over catch-all, explicit method over *', () => {
    const table = new RoutingTable();
    const id = randomUUID();
    table.apply(
      apiCreated(id, '/ops', [
        { method: '*', path: '/*', auth: 'apikey' },
        { method: 'GET', path: '/items/{id}', auth: 'none' },
        { method: 'GET', path: '/items/special', auth: 'oauth2' },
        { method: '*', path: '/items/{id}', auth: 'oauth2' },
      ]),
    );
    const api = table.resolve('/ops/v1/x')!.api;
    expect(table.matchOperation(api, 'GET', '/items/special')?.operation.auth).toBe('oauth2');
    expect(table.matchOperation(api, 'GET', '/items/7')?.operation).toMatchObject({ method: 'GET', auth: 'none' });
    expect(table.matchOperation(api, 'HEAD', '/items/7')?.operation).toMatchObject({ method: 'GET', auth: 'none' });
    expect(table.matchOperation(api, 'DELETE', '/items/7')?.operation).toMatchObject({ method: '*', path: '/items/{id}' });
    expect(table.matchOperation(api, 'GET', '/anything/else')?.operation.path).toBe('/*');
  });

  it('round-trips through its snapshot state with the same digest and answers', () => {
    const table = new RoutingTable();
    const id = randomUUID();
    table.apply(apiCreated(id));
    table.apply(event('api.published', id, {}));
    table.apply(event('policy.created', 'policy:Gold', { name: 'Gold', requestsPerMinute: 10, burst: 2, unlimited: false }));
    table.apply(
      event('token.revoked', 'token:j', { jti: 'j', expiresAt: new Date(Date.now() + 60_000).toISOString(), applicationId: null }),
    );
    const copy = RoutingTable.fromState(JSON.parse(JSON.stringify(table.toState())));
    expect(copy.digest()).toBe(table.digest());
    expect(copy.resolve('/pay/v1/x')?.api).toMatchObject({ id, state: 'PUBLISHED' });
    expect(copy.streamVersion(id)).toBe(2);
    expect(copy.isTokenRevoked('j')).toBe(true);
  });

  it('has the same digest whatever the order in which independent streams arrived', () => {
    const a = randomUUID();
    const b = randomUUID();
    const events = [apiCreated(a, '/a'), apiCreated(b, '/b'), event('api.published', a, {})];
    const one = new RoutingTable();
    const other = new RoutingTable();
    for (const e of events) one.apply(e);
    for (const e of [events[1], events[0], events[2]]) other.apply(e);
    expect(other.digest()).toBe(one.digest());
  });

  it("takes a policy's new rate from policy.updated, and ignores one for a policy it does not know", () => {
    const table = new RoutingTable();
    table.apply(event('policy.created', 'policy:silver', { name: 'Silver', requestsPerMinute: 10, burst: 2, unlimited: false }));
    expect(
      table.apply(event('policy.updated', 'policy:silver', { name: 'Silver', requestsPerMinute: 500, burst: 0, unlimited: false })),
    ).toBe('applied');
    expect(table.policy('Silver')).toEqual({ name: 'Silver', requestsPerMinute: 500, burst: 0, unlimited: false });
    expect(table.apply(event('policy.updated', 'policy:ghost', { name: 'Ghost', requestsPerMinute: 5, burst: 0, unlimited: false }))).toBe(
      'ignored',
    );
    expect(table.policy('Ghost')).toBeUndefined();
  });

  it("takes a subscription's new tier from subscription.tier-changed, keeps its block, and keeps the tier through a snapshot", () => {
    const table = new RoutingTable();
    table.apply(event('subscription.created', 'sub:a:b', { applicationId: 'a', apiId: 'b', tier: 'Gold' }));
    table.apply(event('subscription.blocked', 'sub:a:b', {}));
    const before = table.digest();
    expect(table.apply(event('subscription.tier-changed', 'sub:a:b', { tier: 'Bronze' }))).toBe('applied');
    expect(table.subscription('a', 'b')).toMatchObject({ tier: 'Bronze', state: 'BLOCKED' });
    expect(table.digest()).not.toBe(before);
    const copy = RoutingTable.fromState(JSON.parse(JSON.stringify(table.toState())));
    expect(copy.subscription('a', 'b')).toMatchObject({ tier: 'Bronze', state: 'BLOCKED' });
    expect(copy.digest()).toBe(table.digest());
    expect(table.apply(event('subscription.tier-changed', 'sub:x:y', { tier: 'Gold' }))).toBe('ignored');
  });

  it('forgets a deleted policy, and ignores the deletion of one it does not know', () => {
    const table = new RoutingTable();
    table.apply(event('policy.created', 'policy:silver', { name: 'Silver', requestsPerMinute: 10, burst: 2, unlimited: false }));
    expect(table.apply(event('policy.deleted', 'policy:silver', { name: 'Silver' }))).toBe('applied');
    expect(table.policy('Silver')).toBeUndefined();
    expect(table.apply(event('policy.deleted', 'policy:ghost', { name: 'Ghost' }))).toBe('ignored');
  });

  it("takes an application's new tier from application.updated", () => {
    const table = new RoutingTable();
    const app = randomUUID();
    table.apply(event('application.created', app, { ownerId: 'user:dev', name: 'Shop', policy: 'Gold' }));
    expect(table.apply(event('application.updated', app, { name: 'Shop', policy: 'Bronze' }))).toBe('applied');
    expect(table.application(app)).toEqual({ id: app, policy: 'Bronze' });
    expect(table.apply(event('application.updated', randomUUID(), { name: 'Ghost', policy: 'Gold' }))).toBe('ignored');
  });

  it('takes away everything a deleted application called with, also what arrives for it later, and keeps that through a snapshot', () => {
    const table = new RoutingTable();
    const [app, other, api] = [randomUUID(), randomUUID(), randomUUID()];
    table.apply(event('application.created', app, { ownerId: 'user:dev', name: 'Shop', policy: 'Gold' }));
    table.apply(event('application.created', other, { ownerId: 'user:dev', name: 'Other', policy: 'Gold' }));
    for (const application of [app, other]) {
      table.apply(event('subscription.created', `sub:${application}:${api}`, { applicationId: application, apiId: api, tier: 'Gold' }));
      table.apply(
        event('apikey.generated', randomUUID(), {
          applicationId: application,
          keyHash: sha256Hex(application),
          prefix: 'ak_1',
          expiresAt: null,
        }),
      );
      table.apply(event('oauth-client.registered', `client-${application}`, { applicationId: application, secretHash: sha256Hex('s') }));
    }

    expect(table.apply(event('application.deleted', app, {}))).toBe('applied');
    expect(table.application(app)).toBeUndefined();
    expect(table.isApplicationDeleted(app)).toBe(true);
    expect(table.subscription(app, api)).toBeUndefined();
    expect(table.apiKey(sha256Hex(app))?.revoked).toBe(true);
    expect(table.oauthClient(`client-${app}`)?.revoked).toBe(true);
    // Another application keeps everything.
    expect(table.isApplicationDeleted(other)).toBe(false);
    expect(table.subscription(other, api)?.state).toBe('ACTIVE');
    expect(table.apiKey(sha256Hex(other))?.revoked).toBe(false);
    expect(table.oauthClient(`client-${other}`)?.revoked).toBe(false);

    // Another DC's concurrent writes for the deleted application arrive afterwards: inert.
    const lateApi = randomUUID();
    expect(table.apply(event('subscription.created', `sub:${app}:${lateApi}`, { applicationId: app, apiId: lateApi, tier: 'Gold' }))).toBe(
      'ignored',
    );
    expect(table.subscription(app, lateApi)).toBeUndefined();
    table.apply(
      event('apikey.generated', randomUUID(), { applicationId: app, keyHash: sha256Hex('late'), prefix: 'ak_2', expiresAt: null }),
    );
    expect(table.apiKey(sha256Hex('late'))?.revoked).toBe(true);
    table.apply(event('oauth-client.registered', `late-${app}`, { applicationId: app, secretHash: sha256Hex('s') }));
    expect(table.oauthClient(`late-${app}`)?.revoked).toBe(true);

    const restored = RoutingTable.fromState(JSON.parse(JSON.stringify(table.toState())));
    expect(restored.isApplicationDeleted(app)).toBe(true);
    expect(restored.digest()).toBe(table.digest());
    const lateAgain = randomUUID();
    expect(
      restored.apply(event('subscription.created', `sub:${app}:${lateAgain}`, { applicationId: app, apiId: lateAgain, tier: 'Gold' })),
    ).toBe('ignored');
  });

  it('forgets token revocations once the tokens have expired', () => {
    const table = new RoutingTable();
    table.apply(
      event('token.revoked', 'token:old', { jti: 'old', expiresAt: new Date(Date.now() - 1000).toISOString(), applicationId: null }),
    );
    table.apply(
      event('token.revoked', 'token:new', { jti: 'new', expiresAt: new Date(Date.now() + 60_000).toISOString(), applicationId: null }),
    );
    expect(table.purgeExpiredRevocations()).toBe(1);
    expect(table.isTokenRevoked('old')).toBe(false);
    expect(table.isTokenRevoked('new')).toBe(true);
  });
});
