import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../support/control-plane';
import { TestDatabase } from '../support/databases';
import { eventually, RunningGateway, startGateway, startUpstream } from '../support/gateway';
import { testBrokers } from '../support/test-env';

const ADMIN = { username: 'ops-admin', password: 'a long enough admin password' };

/**
 * A control plane and a gateway of one DC, as real processes, talking only
 * through Kafka: what is published in GraphQL becomes routable, a key revoked
 * in GraphQL stops working at the gateway, so do a blocked subscription and
 * the tokens of a revoked OAuth2 client, the gateway's traffic shows up in
 * `usage`, and the gateway is listed by `gateways`, then shown as gone.
 */
describe('a control plane and a gateway of one DC', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apim-cp-gw-'));
  const run = randomBytes(3).toString('hex');
  const gatewayId = `gw-cp-${run}`;
  // A DC id of this file's own: other files' control planes write the same per-DC streams (the DC's signing key)
  // to the shared cluster, and a gateway would take the first one's key as this DC's.
  const dc = `g${run}`;
  let db: TestDatabase;
  let cp: ControlPlane;
  let gateway: RunningGateway;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let passed = false;

  beforeAll(async () => {
    db = await TestDatabase.create('cp_gw');
    upstream = await startUpstream();
    cp = new ControlPlane(db, join(dir, 'cp.log'), {
      DC_ID: dc,
      APIM_ADMIN_USER: ADMIN.username,
      APIM_ADMIN_PASSWORD: ADMIN.password,
      GATEWAY_GONE_AFTER_SECONDS: '3',
    });
    await cp.start();
    gateway = await startGateway(
      { DC_ID: dc, KAFKA_BROKERS: testBrokers('dc1').join(','), GATEWAY_ID: gatewayId, HEARTBEAT_INTERVAL_SECONDS: '1' },
      'with-cp',
    );
  });

  afterAll(async () => {
    if (!passed) console.error(`control plane log tail:\n${readFileSync(join(dir, 'cp.log'), 'utf8').slice(-3000)}`);
    await Promise.all([cp?.process.stop(), gateway?.process.stop(10_000)]);
    await upstream?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A published API at `context` v1 with `GET /by-key` (API key) and `GET /by-token` (OAuth2), on the test upstream. */
  async function publishKeyAndTokenApi(name: string, context: string, admin: string): Promise<{ id: string }> {
    const api = (
      await cp.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        {
          input: {
            name,
            version: 'v1',
            context,
            upstreamUrls: [upstream.url],
            operations: [
              { method: 'GET', path: '/by-key', auth: 'apikey' },
              { method: 'GET', path: '/by-token', auth: 'oauth2' },
            ],
          },
        },
        admin,
      )
    ).createApi;
    await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, admin);
    return api;
  }

  /**
   * Subscribes the application to the API on `tier` and gives it an API key;
   * returns a call through the gateway with that key: its status and the
   * `RateLimit-Limit` it was told.
   */
  async function subscribeWithKey(applicationId: string, apiId: string, tier: string, context: string, developer: string) {
    await cp.ok(
      `mutation($app: ID!, $api: ID!, $t: String!) { subscribe(applicationId: $app, apiId: $api, tier: $t) { id } }`,
      { app: applicationId, api: apiId, t: tier },
      developer,
    );
    const { key } = (await cp.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: applicationId }, developer))
      .generateApiKey;
    return async () => {
      const response = await fetch(`${gateway.url}${context}/v1/x`, { headers: { apikey: key } });
      return { status: response.status, limit: response.headers.get('ratelimit-limit') };
    };
  }

  it('lets a publisher block and unblock a subscription, and a developer revoke an OAuth2 client, each in effect at the gateway', async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const context = `/blocks-${run}`;
    const api = await publishKeyAndTokenApi('Blocks', context, admin);
    await cp.signUp(`pub-${run}`, 'a publisher password');
    await cp.ok(`mutation($u: String!) { grantRole(username: $u, role: PUBLISHER) { username } }`, { u: `pub-${run}` }, admin);
    const publisher = await cp.login(`pub-${run}`, 'a publisher password');

    const developer = await cp.signUp(`blocked-dev-${run}`, 'a developer password');
    const other = await cp.signUp(`other-dev-${run}`, 'a developer password');
    const app = (await cp.ok(`mutation { createApplication(input: { name: "Blocked" }) { id } }`, {}, developer)).createApplication;
    const ids = { app: app.id, api: api.id };
    await cp.ok(`mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`, ids, developer);
    const { key } = (await cp.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: app.id }, developer))
      .generateApiKey;
    const byKey = () => fetch(`${gateway.url}${context}/v1/by-key`, { headers: { apikey: key } });
    await eventually(async () => expect((await byKey()).status).toBe(200), 60_000);

    const block = `mutation($app: ID!, $api: ID!) { blockSubscription(applicationId: $app, apiId: $api) { status } }`;
    const unblock = `mutation($app: ID!, $api: ID!) { unblockSubscription(applicationId: $app, apiId: $api) { status } }`;
    expect((await cp.gql(block, ids, developer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await cp.ok(block, ids, publisher)).blockSubscription).toEqual({ status: 'BLOCKED' });
    expect((await cp.gql(block, ids, publisher)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await eventually(async () => {
      const response = await byKey();
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: 'SUBSCRIPTION_BLOCKED' });
    }, 30_000);
    const subscribeAgain = await cp.gql(
      `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
      ids,
      developer,
    );
    expect(subscribeAgain.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await cp.ok(unblock, ids, admin)).unblockSubscription).toEqual({ status: 'ACTIVE' });
    await eventually(async () => expect((await byKey()).status).toBe(200), 30_000);

    const client = (
      await cp.ok(`mutation($app: ID!) { registerOAuthClient(applicationId: $app) { clientId clientSecret } }`, { app: app.id }, developer)
    ).registerOAuthClient;
    const token = async () =>
      fetch(`${cp.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      });
    const tokenResponse = await token();
    expect(tokenResponse.status).toBe(200);
    const issued = (await tokenResponse.json()) as { access_token: string };
    const byToken = () => fetch(`${gateway.url}${context}/v1/by-token`, { headers: { authorization: `Bearer ${issued.access_token}` } });
    await eventually(async () => {
      const response = await byToken();
      expect({ status: response.status, body: response.status === 200 ? null : await response.text() }).toEqual({
        status: 200,
        body: null,
      });
    }, 30_000);

    const revoke = `mutation($id: ID!) { revokeOAuthClient(clientId: $id) }`;
    expect((await cp.gql(revoke, { id: client.clientId }, other)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await cp.ok(revoke, { id: client.clientId }, developer)).revokeOAuthClient).toBe(true);
    const listed = await cp.ok(`query($app: ID!) { oauthClients(applicationId: $app) { clientId status } }`, { app: app.id }, developer);
    await eventually(async () => {
      const now = await cp.ok(`query($app: ID!) { oauthClients(applicationId: $app) { clientId status } }`, { app: app.id }, developer);
      expect(now.oauthClients).toEqual([{ clientId: client.clientId, status: 'REVOKED' }]);
    }, 30_000);
    expect(listed.oauthClients.map((c: { clientId: string }) => c.clientId)).toEqual([client.clientId]);
    const refused = await token();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    await eventually(async () => {
      const response = await byToken();
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'REVOKED_CREDENTIALS' });
    }, 30_000);
    expect((await cp.gql(revoke, { id: client.clientId }, developer)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await byKey()).status).toBe(200);
  });

  it("lets a developer delete an application: its key, client and token stop at the gateway, another application's go on, and it leaves the lists", async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const context = `/deleted-${run}`;
    const api = await publishKeyAndTokenApi('Deletions', context, admin);
    const developer = await cp.signUp(`deleting-dev-${run}`, 'a developer password');
    const stranger = await cp.signUp(`stranger-dev-${run}`, 'a developer password');

    const subscribedApp = async (name: string) => {
      const { id } = (await cp.ok(`mutation($name: String!) { createApplication(input: { name: $name }) { id } }`, { name }, developer))
        .createApplication;
      await cp.ok(
        `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
        { app: id, api: api.id },
        developer,
      );
      const { key } = (await cp.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: id }, developer))
        .generateApiKey;
      return { id, byKey: () => fetch(`${gateway.url}${context}/v1/by-key`, { headers: { apikey: key } }) };
    };
    const doomed = await subscribedApp('Doomed');
    const kept = await subscribedApp('Kept');
    const client = (
      await cp.ok(
        `mutation($app: ID!) { registerOAuthClient(applicationId: $app) { clientId clientSecret } }`,
        { app: doomed.id },
        developer,
      )
    ).registerOAuthClient;
    const token = () =>
      fetch(`${cp.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      });
    const { access_token: accessToken } = (await (await token()).json()) as { access_token: string };
    const byToken = () => fetch(`${gateway.url}${context}/v1/by-token`, { headers: { authorization: `Bearer ${accessToken}` } });
    await eventually(async () => {
      expect([(await doomed.byKey()).status, (await byToken()).status, (await kept.byKey()).status]).toEqual([200, 200, 200]);
    }, 60_000);

    const remove = `mutation($app: ID!) { deleteApplication(applicationId: $app) }`;
    expect((await cp.gql(remove, { app: doomed.id }, stranger)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await cp.ok(remove, { app: doomed.id }, developer)).deleteApplication).toBe(true);

    await eventually(async () => {
      const [key, bearer] = [await doomed.byKey(), await byToken()];
      expect([key.status, await key.json(), bearer.status, await bearer.json()]).toEqual([
        401,
        expect.objectContaining({ error: 'REVOKED_CREDENTIALS' }),
        401,
        expect.objectContaining({ error: 'REVOKED_CREDENTIALS' }),
      ]);
    }, 30_000);
    expect((await kept.byKey()).status).toBe(200);
    const refused = await token();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });

    // Nothing more can be done with it, deleting it again included.
    for (const [operation, variables] of [
      [remove, { app: doomed.id }],
      [
        `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
        { app: doomed.id, api: api.id },
      ],
      [`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: doomed.id }],
      [`mutation($app: ID!) { updateApplication(applicationId: $app, input: { name: "Back" }) { id } }`, { app: doomed.id }],
    ] as const) {
      const refusal = await cp.gql(operation, variables, developer);
      expect(refusal.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'APPLICATION.NOT_FOUND' });
    }
    await eventually(async () => {
      const lists = await cp.ok(`query { applications { name } subscriptions { applicationId status } }`, {}, developer);
      expect(lists).toEqual({ applications: [{ name: 'Kept' }], subscriptions: [{ applicationId: kept.id, status: 'ACTIVE' }] });
    }, 30_000);
  });

  it("lets a publisher change a tier's rate and a developer their application's tier, and the gateway's rate limit follows", async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const tier = `Tunable${run}`;
    const context = `/tunable-${run}`;
    await cp.ok(`mutation($n: String!) { createThrottlingPolicy(input: { name: $n, requestsPerMinute: 5 }) { name } }`, { n: tier }, admin);
    const api = (
      await cp.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        { input: { name: 'Tunable', version: 'v1', context, upstreamUrls: [upstream.url], tiers: [tier] } },
        admin,
      )
    ).createApi;
    await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, admin);
    const developer = await cp.signUp(`tunable-dev-${run}`, 'a developer password');
    const app = (await cp.ok(`mutation { createApplication(input: { name: "Tunable" }) { id } }`, {}, developer)).createApplication;
    const limitAtGateway = await subscribeWithKey(app.id, api.id, tier, context, developer);
    await eventually(async () => expect(await limitAtGateway()).toEqual({ status: 200, limit: '5' }), 60_000);

    const update = `mutation($n: String!, $r: Int!) { updateThrottlingPolicy(input: { name: $n, requestsPerMinute: $r }) { name requestsPerMinute burst unlimited } }`;
    expect((await cp.gql(update, { n: tier, r: 600 }, developer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await cp.gql(update, { n: `Nothing${run}`, r: 600 }, admin)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await cp.gql(update, { n: 'Unlimited', r: 600 }, admin)).errors?.[0]?.extensions?.reason).toBe('POLICY.UNLIMITED');
    expect((await cp.ok(update, { n: tier.toLowerCase(), r: 600 }, admin)).updateThrottlingPolicy).toEqual({
      name: tier,
      requestsPerMinute: 600,
      burst: 0,
      unlimited: false,
    });
    await eventually(async () => expect(await limitAtGateway()).toEqual({ status: 200, limit: '600' }), 30_000);
    await eventually(async () => {
      const { throttlingPolicies } = await cp.ok(`{ throttlingPolicies { name requestsPerMinute } }`, {}, developer);
      expect(throttlingPolicies).toContainEqual({ name: tier, requestsPerMinute: 600 });
    }, 30_000);

    // The developer puts the application itself on a tighter tier: the tightest bucket is what the headers report.
    const small = `Small${run}`;
    await cp.ok(
      `mutation($n: String!) { createThrottlingPolicy(input: { name: $n, requestsPerMinute: 50 }) { name } }`,
      { n: small },
      admin,
    );
    const updateApp = `mutation($id: ID!, $p: String) { updateApplication(applicationId: $id, input: { policy: $p }) { id name policy } }`;
    const stranger = await cp.signUp(`tunable-other-${run}`, 'a developer password');
    expect((await cp.gql(updateApp, { id: app.id, p: small }, stranger)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await cp.gql(updateApp, { id: app.id, p: 'NoSuchTier' }, developer)).errors?.[0]?.extensions?.fields).toEqual(['policy']);
    expect((await cp.ok(updateApp, { id: app.id, p: small }, developer)).updateApplication).toEqual({
      id: app.id,
      name: 'Tunable',
      policy: small,
    });
    await eventually(async () => expect(await limitAtGateway()).toEqual({ status: 200, limit: '50' }), 30_000);
    await eventually(async () => {
      const { applications } = await cp.ok(`{ applications { id policy } }`, {}, developer);
      expect(applications).toContainEqual({ id: app.id, policy: small });
    }, 30_000);
  });

  it("lets a developer move a subscription to another tier the API offers, and the gateway's rate limit follows", async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const [slow, fast, other] = [`Slow${run}`, `Fast${run}`, `Other${run}`];
    for (const [name, rate] of [
      [slow, 5],
      [fast, 700],
      [other, 900],
    ] as const) {
      await cp.ok(
        `mutation($n: String!, $r: Int!) { createThrottlingPolicy(input: { name: $n, requestsPerMinute: $r }) { name } }`,
        { n: name, r: rate },
        admin,
      );
    }
    const context = `/plans-${run}`;
    const api = (
      await cp.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        { input: { name: 'Plans', version: 'v1', context, upstreamUrls: [upstream.url], tiers: [slow, fast] } },
        admin,
      )
    ).createApi;
    await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, admin);
    const developer = await cp.signUp(`plans-dev-${run}`, 'a developer password');
    const stranger = await cp.signUp(`plans-other-${run}`, 'a developer password');
    const app = (await cp.ok(`mutation { createApplication(input: { name: "Plans" }) { id } }`, {}, developer)).createApplication;
    const ids = { app: app.id, api: api.id };
    const limitAtGateway = await subscribeWithKey(app.id, api.id, slow, context, developer);
    await eventually(async () => expect(await limitAtGateway()).toEqual({ status: 200, limit: '5' }), 60_000);

    const change = `mutation($app: ID!, $api: ID!, $t: String!) { changeSubscriptionTier(applicationId: $app, apiId: $api, tier: $t) { id tier status } }`;
    expect((await cp.gql(change, { ...ids, t: fast }, stranger)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const notOffered = (await cp.gql(change, { ...ids, t: other }, developer)).errors?.[0]?.extensions;
    expect(notOffered).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SUBSCRIPTION.TIER_NOT_OFFERED', fields: ['tier'] });
    expect((await cp.ok(change, { ...ids, t: fast }, developer)).changeSubscriptionTier).toEqual({
      id: `sub:${app.id}:${api.id}`,
      tier: fast,
      status: 'ACTIVE',
    });
    await eventually(async () => expect(await limitAtGateway()).toEqual({ status: 200, limit: '700' }), 30_000);
    await eventually(async () => {
      const { subscriptions } = await cp.ok(`query($app: ID) { subscriptions(applicationId: $app) { tier status } }`, ids, developer);
      expect(subscriptions).toEqual([{ tier: fast, status: 'ACTIVE' }]);
    }, 30_000);

    // A removed subscription has no tier to change: subscribing again is the way back.
    await cp.ok(`mutation($app: ID!, $api: ID!) { unsubscribe(applicationId: $app, apiId: $api) { status } }`, ids, developer);
    expect((await cp.gql(change, { ...ids, t: slow }, developer)).errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'SUBSCRIPTION.INVALID_TRANSITION',
    });
  });

  it('routes what GraphQL publishes, stops a key GraphQL revokes, counts the traffic in usage, and lists the gateway until it is gone', async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const context = `/shop-${run}`;
    const api = (
      await cp.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        { input: { name: 'Shop', version: 'v1', context, upstreamUrls: [upstream.url] } },
        admin,
      )
    ).createApi;
    await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, admin);

    const developer = await cp.signUp(`dev-${run}`, 'a developer password');
    const app = (await cp.ok(`mutation { createApplication(input: { name: "Cart" }) { id } }`, {}, developer)).createApplication;
    await cp.ok(
      `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
      { app: app.id, api: api.id },
      developer,
    );
    const { key, keyId } = (
      await cp.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { keyId key } }`, { app: app.id }, developer)
    ).generateApiKey;

    const call = () => fetch(`${gateway.url}${context}/v1/cart`, { headers: { apikey: key } });
    await eventually(async () => expect((await call()).status).toBe(200), 60_000);

    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const usage = await eventually(async () => {
      const data = await cp.ok(
        `query($api: ID!, $from: String!, $to: String!) { usage(apiId: $api, from: $from, to: $to) { requests byDc { dc requests } } }`,
        { api: api.id, from, to },
        admin,
      );
      expect(data.usage.requests).toBeGreaterThanOrEqual(1);
      return data.usage;
    }, 60_000);
    expect(usage.byDc).toEqual([{ dc, requests: usage.requests }]);

    await cp.ok(`mutation($key: ID!) { revokeApiKey(keyId: $key) }`, { key: keyId }, developer);
    await eventually(async () => expect((await call()).status).toBe(401), 30_000);

    const listed = await eventually(async () => {
      const { gateways } = await cp.ok(
        `{ gateways { id dc status state lag digest lastSeen positions { topic partition next lag } } }`,
        {},
        admin,
      );
      const ours = gateways.find((g: { id: string }) => g.id === gatewayId);
      expect(ours).toMatchObject({ dc, status: 'LIVE', state: 'ready' });
      return ours;
    }, 60_000);
    expect(listed.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(listed.positions.some((p: { topic: string }) => p.topic === 'apim.events')).toBe(true);

    const developerAsked = await cp.gql(`{ gateways { id } }`, {}, developer);
    expect(developerAsked.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // A gateway that stops says so in its last heartbeat; one that dies is GONE once silent for GATEWAY_GONE_AFTER_SECONDS.
    const listedAs = async (id: string) =>
      (await cp.ok(`{ gateways { id status state } }`, {}, admin)).gateways.find((g: { id: string }) => g.id === id);
    const brief = await startGateway(
      { DC_ID: dc, KAFKA_BROKERS: testBrokers('dc1').join(','), GATEWAY_ID: `${gatewayId}-brief`, HEARTBEAT_INTERVAL_SECONDS: '1' },
      'with-cp-brief',
    );
    try {
      await eventually(async () => expect(await listedAs(`${gatewayId}-brief`)).toMatchObject({ status: 'LIVE', state: 'ready' }), 60_000);
    } finally {
      await brief.process.stop(10_000);
    }
    await eventually(async () => expect(await listedAs(`${gatewayId}-brief`)).toMatchObject({ status: 'GONE', state: 'stopped' }), 30_000);
    gateway.process.kill('SIGKILL');
    await gateway.process.exited;
    await eventually(async () => expect(await listedAs(gatewayId)).toMatchObject({ status: 'GONE', state: 'ready' }), 30_000);
    const live = await cp.ok(`{ gateways(includeGone: false) { id } }`, {}, admin);
    expect(live.gateways.map((g: { id: string }) => g.id)).not.toContain(gatewayId);
    passed = true;
  });
});
