import { createPublicKey, JsonWebKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEnvelope, TOPICS } from '@apim/events';
import { Client } from 'pg';
import { ControlPlane, GqlResult } from '../support/control-plane';
import { TestDatabase } from '../support/databases';
import { eventually } from '../support/gateway';
import { expectPerStreamOrder, readTopicUntil } from '../support/events';
import { testKafka } from '../support/kafka';
import { testBrokers } from '../support/test-env';

const ADMIN = { username: 'root-admin', password: 'correct horse battery staple' };

function codeOf(result: GqlResult): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}

const CREATE_API = `mutation($input: CreateApiInput!) { createApi(input: $input) { id name version context state upstreamUrls tiers homeDc revision } }`;
const LIFECYCLE = `mutation($id: ID!, $action: LifecycleAction!) { changeApiLifecycle(id: $id, action: $action) { id state revision } }`;

describe('the control plane GraphQL admin API, end to end over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apim-cp-api-'));
  let db: TestDatabase;
  let standbyDb: TestDatabase;
  let cp: ControlPlane;
  let standby: ControlPlane;
  let passed = false;

  beforeAll(async () => {
    db = await TestDatabase.create('cp_api');
    standbyDb = await TestDatabase.create('cp_api_standby');
    cp = new ControlPlane(db, join(dir, 'dc1.log'), {
      DC_ID: 'dc1',
      PEER_DCS: 'dc2',
      APIM_ADMIN_USER: ADMIN.username,
      APIM_ADMIN_PASSWORD: ADMIN.password,
    });
    standby = new ControlPlane(standbyDb, join(dir, 'dc2.log'), { DC_ID: 'dc2', PEER_DCS: 'dc1' });
    await Promise.all([cp.start(), standby.start()]);
  });

  afterAll(async () => {
    if (!passed)
      for (const file of ['dc1.log', 'dc2.log']) console.error(`${file} tail:\n${readFileSync(join(dir, file), 'utf8').slice(-3000)}`);
    await Promise.all([cp?.process.stop(), standby?.process.stop()]);
    await db?.drop();
    await standbyDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks the whole flow, refuses what it must, and puts every step on apim.events in order', async () => {
    // The bootstrap admin signs in; a new user becomes a publisher.
    const admin = await waitFor(() => cp.login(ADMIN.username, ADMIN.password));
    await cp.signUp('pat.publisher', 'publisher-password-1');
    expect(
      codeOf(
        await cp.gql(
          `mutation { grantRole(username: "pat.publisher", role: PUBLISHER) { username } }`,
          {},
          await cp.login('pat.publisher', 'publisher-password-1'),
        ),
      ),
    ).toBe('FORBIDDEN');
    const granted = await cp.ok(`mutation { grantRole(username: "pat.publisher", role: PUBLISHER) { username roles } }`, {}, admin);
    expect(granted.grantRole.roles).toEqual(['DEVELOPER', 'PUBLISHER']);
    const publisher = await cp.login('pat.publisher', 'publisher-password-1');

    // The publisher creates and publishes an API.
    const input = {
      name: 'Payments',
      version: 'v1',
      context: '/payments',
      upstreamUrls: ['http://127.0.0.1:9/'],
      tiers: ['Gold', 'Silver'],
    };
    const api = (await cp.ok(CREATE_API, { input }, publisher)).createApi;
    expect(api).toMatchObject({ name: 'Payments', state: 'CREATED', homeDc: 'dc1', revision: 1, tiers: ['Gold', 'Silver'] });
    expect((await cp.ok(LIFECYCLE, { id: api.id, action: 'PUBLISH' }, publisher)).changeApiLifecycle).toMatchObject({
      state: 'PUBLISHED',
      revision: 2,
    });

    // A developer signs up, creates an application, subscribes, gets an API key and an OAuth2 token.
    const dev = await cp.signUp('dana.dev', 'developer-password-1');
    const developerApis = (await cp.ok(`{ apis { id state } }`, {}, dev)).apis;
    expect(developerApis.map((a: { id: string }) => a.id)).toContain(api.id);
    const app = (await cp.ok(`mutation { createApplication(input: { name: "Shop" }) { id name policy ownerId } }`, {}, dev))
      .createApplication;
    expect(app).toMatchObject({ name: 'Shop', policy: 'Unlimited', ownerId: 'user:dana.dev' });
    const subscribe = `mutation($app: ID!, $api: ID!, $tier: String!) { subscribe(applicationId: $app, apiId: $api, tier: $tier) { id status tier } }`;
    const tierRefusal = await cp.gql(subscribe, { app: app.id, api: api.id, tier: 'Bronze' }, dev);
    expect(codeOf(tierRefusal)).toBe('BAD_USER_INPUT');
    expect(tierRefusal.errors?.[0].extensions?.fields).toEqual(['tier']);
    expect((await cp.ok(subscribe, { app: app.id, api: api.id, tier: 'Gold' }, dev)).subscribe).toMatchObject({
      status: 'ACTIVE',
      tier: 'Gold',
    });
    const generated = (
      await cp.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { keyId key prefix } }`, { app: app.id }, dev)
    ).generateApiKey;
    expect(generated.key).toMatch(/^apim_[A-Za-z0-9_-]{43}$/);
    expect(generated.key.startsWith(generated.prefix)).toBe(true);
    const keys = (await waitFor(async () => {
      const listed = (await cp.ok(`query($app: ID!) { apiKeys(applicationId: $app) { keyId prefix status } }`, { app: app.id }, dev))
        .apiKeys;
      if (listed.length === 0) throw new Error('key not projected yet');
      return listed;
    })) as { keyId: string; prefix: string; status: string }[];
    expect(keys).toEqual([{ keyId: generated.keyId, prefix: generated.prefix, status: 'ACTIVE' }]);
    const client = (
      await cp.ok(`mutation($app: ID!) { registerOAuthClient(applicationId: $app) { clientId clientSecret } }`, { app: app.id }, dev)
    ).registerOAuthClient;

    const tokenResponse = await fetch(`${cp.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
    });
    expect(tokenResponse.status).toBe(200);
    const token = (await tokenResponse.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const claims = verifyWithJwks(
      token.access_token,
      (await (await fetch(`${cp.url}/.well-known/jwks.json`)).json()) as { keys: JsonWebKey[] },
    );
    expect(claims).toMatchObject({ iss: 'apim', aud: 'apim-gateway', sub: client.clientId, application_id: app.id });
    expect(typeof claims.jti).toBe('string');
    const wrongSecret = await fetch(`${cp.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:nope`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(wrongSecret.status).toBe(401);
    expect(await wrongSecret.json()).toMatchObject({ error: 'invalid_client' });
    expect((await cp.ok(`mutation($jti: ID!) { revokeToken(jti: $jti) }`, { jti: claims.jti }, dev)).revokeToken).toBe(true);

    // Every step is on apim.events, each stream in order, and no secret is in any record.
    const streams = [api.id, app.id, `sub:${app.id}:${api.id}`, generated.keyId, client.clientId, `token:${claims.jti}`, 'user:dana.dev'];
    const events = await readTopicUntil(
      testKafka(testBrokers('dc1')),
      TOPICS.events,
      (read) => streams.every((s) => read.some((e) => e.streamId === s)) && read.filter((e) => e.streamId === api.id).length >= 2,
    );
    const ours = events.filter((e: EventEnvelope) => streams.includes(e.streamId));
    expectPerStreamOrder(ours, new Map(streams.map((s) => [s, Math.max(...ours.filter((e) => e.streamId === s).map((e) => e.version))])));
    expect(ours.filter((e) => e.streamId === api.id).map((e) => e.type)).toEqual(['api.created', 'api.published']);
    expect(ours.find((e) => e.streamId === app.id)).toMatchObject({ type: 'application.created', originDc: 'dc1', actor: 'user:dana.dev' });
    const wire = JSON.stringify(events);
    for (const secret of [generated.key, client.clientSecret, 'developer-password-1', ADMIN.password, token.access_token])
      expect(wire).not.toContain(secret);

    // Refusals: another developer's application, wrong role, no token, bad input, lifecycle, context clash.
    const other = await cp.signUp('olga.other', 'other-password-1');
    expect(codeOf(await cp.gql(subscribe, { app: app.id, api: api.id, tier: 'Gold' }, other))).toBe('FORBIDDEN');
    expect(codeOf(await cp.gql(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: app.id }, other))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await cp.gql(`mutation($id: ID!) { revokeApiKey(keyId: $id) }`, { id: generated.keyId }, other))).toBe('FORBIDDEN');
    expect(codeOf(await cp.gql(CREATE_API, { input: { ...input, context: '/other' } }, dev))).toBe('FORBIDDEN');
    expect(codeOf(await cp.gql(CREATE_API, { input: { ...input, context: '/other' } }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await cp.gql(`{ apis { id } }`, {}, 'not.a.token'))).toBe('UNAUTHENTICATED');
    const bad = await cp.gql(
      CREATE_API,
      { input: { ...input, context: '/bad', upstreamUrls: ['ftp://x'], tiers: ['Platinum'] } },
      publisher,
    );
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0].extensions?.fields).toContain('upstreamUrls');
    const badDomain = await cp.gql(CREATE_API, { input: { ...input, context: 'no-slash', tiers: ['Platinum'] } }, publisher);
    expect(codeOf(badDomain)).toBe('BAD_USER_INPUT');
    expect(badDomain.errors?.[0].extensions?.fields).toEqual(expect.arrayContaining(['context', 'tiers']));
    const clash = await cp.gql(CREATE_API, { input: { ...input, name: 'Payments again' } }, publisher);
    expect(codeOf(clash)).toBe('CONFLICT');
    expect(clash.errors?.[0].extensions?.reason).toBe('API.CONTEXT_TAKEN');
    expect(codeOf(await cp.gql(LIFECYCLE, { id: api.id, action: 'UNBLOCK' }, publisher))).toBe('CONFLICT');
    expect(codeOf(await cp.gql(LIFECYCLE, { id: 'no-such-api', action: 'PUBLISH' }, publisher))).toBe('NOT_FOUND');
    await cp.ok(LIFECYCLE, { id: api.id, action: 'DEPRECATE' }, publisher);
    const other2App = (await cp.ok(`mutation { createApplication(input: { name: "Other" }) { id } }`, {}, other)).createApplication;
    expect(codeOf(await cp.gql(subscribe, { app: other2App.id, api: api.id, tier: 'Gold' }, other))).toBe('CONFLICT');
    await cp.ok(LIFECYCLE, { id: api.id, action: 'RETIRE' }, publisher);
    expect(codeOf(await cp.gql(LIFECYCLE, { id: api.id, action: 'PUBLISH' }, publisher))).toBe('CONFLICT');
    // Retiring gave the context back.
    expect((await cp.ok(CREATE_API, { input: { ...input, name: 'Payments 2' } }, publisher)).createApi.state).toBe('CREATED');
    passed = true;
  });

  it('lets exactly one of two concurrent updates at the same revision win; the other gets CONFLICT', async () => {
    const publisher = await waitFor(() => cp.login(ADMIN.username, ADMIN.password));
    const api = (
      await cp.ok(
        CREATE_API,
        { input: { name: 'Race', version: 'v1', context: '/race', upstreamUrls: ['http://127.0.0.1:9/'] } },
        publisher,
      )
    ).createApi;
    const update = `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { revision name } }`;
    const results = await Promise.all(
      ['Race A', 'Race B'].map((name) => cp.gql(update, { id: api.id, input: { name, expectedRevision: api.revision } }, publisher)),
    );
    expect(results.map(codeOf).sort()).toEqual(['CONFLICT', undefined]);
    const winner = results.find((r) => !r.errors)!.data as { updateApi: { revision: number } };
    expect(winner.updateApi.revision).toBe(2);
  });

  it('gives an API its own throttling policy, refuses one that does not exist, and removes it with null', async () => {
    const publisher = await waitFor(() => cp.login(ADMIN.username, ADMIN.password));
    const create = `mutation($input: CreateApiInput!) { createApi(input: $input) { id throttlingPolicy revision } }`;
    const input = { name: 'Throttled', version: 'v1', context: '/throttled', upstreamUrls: ['http://127.0.0.1:9/'] };
    const unknown = await cp.gql(create, { input: { ...input, throttlingPolicy: 'Platinum' } }, publisher);
    expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
    expect(unknown.errors?.[0].extensions?.fields).toEqual(['throttlingPolicy']);
    const api = (await cp.ok(create, { input: { ...input, throttlingPolicy: 'Silver' } }, publisher)).createApi;
    expect(api.throttlingPolicy).toBe('Silver');
    const read = `query($id: ID!) { api(id: $id) { throttlingPolicy revision } }`;
    await waitFor(async () =>
      expect((await cp.ok(read, { id: api.id }, publisher)).api).toEqual({ throttlingPolicy: 'Silver', revision: 1 }),
    );
    const update = `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { throttlingPolicy revision } }`;
    expect((await cp.ok(update, { id: api.id, input: { throttlingPolicy: null } }, publisher)).updateApi).toEqual({
      throttlingPolicy: null,
      revision: 2,
    });
    await waitFor(async () => expect((await cp.ok(read, { id: api.id }, publisher)).api).toEqual({ throttlingPolicy: null, revision: 2 }));
  });

  it('deletes a throttling policy nothing uses, refuses one in use naming what uses it, keeps Unlimited, and lets the name come back', async () => {
    const admin = await waitFor(() => cp.login(ADMIN.username, ADMIN.password));
    const developer = await cp.signUp('del.dev', 'developer-password-1');
    const remove = `mutation($n: String!) { deleteThrottlingPolicy(name: $n) }`;
    const createPolicy = `mutation { createThrottlingPolicy(input: { name: "Doomed", requestsPerMinute: 60 }) { name } }`;
    await cp.ok(createPolicy, {}, admin);
    const api = (
      await cp.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        { input: { name: 'Doomed tier', version: 'v1', context: '/doomed', upstreamUrls: ['http://127.0.0.1:9/'], tiers: ['Doomed'] } },
        admin,
      )
    ).createApi;

    expect(codeOf(await cp.gql(remove, { n: 'Doomed' }, developer))).toBe('FORBIDDEN');
    expect((await cp.gql(remove, { n: 'Unlimited' }, admin)).errors?.[0].extensions).toMatchObject({ reason: 'POLICY.PROTECTED' });
    expect((await cp.gql(remove, { n: 'Nothing' }, admin)).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND' });
    const inUse = await waitFor(async () => {
      const error = (await cp.gql(remove, { n: 'doomed' }, admin)).errors?.[0];
      expect(error?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'POLICY.IN_USE' });
      return error!;
    });
    expect(inUse.message).toContain('1 API');

    // Once the API offers another tier, nothing uses it.
    await cp.ok(
      `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
      { id: api.id, input: { tiers: ['Gold'] } },
      admin,
    );
    await waitFor(async () => expect((await cp.ok(remove, { n: 'doomed' }, admin)).deleteThrottlingPolicy).toBe(true));
    await waitFor(async () =>
      expect((await cp.ok(`{ throttlingPolicies { name } }`, {}, admin)).throttlingPolicies).not.toContainEqual({ name: 'Doomed' }),
    );
    const offering = await cp.gql(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Late', version: 'v1', context: '/late-doomed', upstreamUrls: ['http://127.0.0.1:9/'], tiers: ['Doomed'] } },
      admin,
    );
    expect(offering.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: ['tiers'] });
    expect((await cp.gql(remove, { n: 'Doomed' }, admin)).errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND' });

    // The name may be taken again.
    expect((await cp.ok(createPolicy, {}, admin)).createThrottlingPolicy).toEqual({ name: 'Doomed' });
    await waitFor(async () =>
      expect((await cp.ok(`{ throttlingPolicies { name } }`, {}, admin)).throttlingPolicies).toContainEqual({ name: 'Doomed' }),
    );
  });

  it('changes a password: the old one stops signing in and its sessions end, the new one works, only its hash is on apim.events', async () => {
    const token = await cp.signUp('pat.password', 'first-password-1');
    const change = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }`;
    const me = (bearer: string) => cp.gql(`{ me { username roles } }`, {}, bearer);
    // Tokens carry their issue time in whole seconds: one issued in the second of a change outlives it.
    const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));
    const wrong = await cp.gql(change, { c: 'not-my-password', n: 'second-password-2' }, token);
    expect(codeOf(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.errors?.[0].extensions?.fields).toEqual(['currentPassword']);
    const short = await cp.gql(change, { c: 'first-password-1', n: 'short' }, token);
    expect(short.errors?.[0].extensions?.fields).toEqual(['newPassword']);
    expect(codeOf(await cp.gql(change, { c: 'first-password-1', n: 'second-password-2' }))).toBe('UNAUTHENTICATED');
    await cp.login('pat.password', 'first-password-1'); // nothing changed so far
    expect(codeOf(await me(token))).toBeUndefined();

    await nextSecond();
    const { accessToken: changedToken } = (await cp.ok(change, { c: 'first-password-1', n: 'second-password-2' }, token)).changePassword;
    expect(codeOf(await cp.gql(`mutation { login(username: "pat.password", password: "first-password-1") { accessToken } }`))).toBe(
      'UNAUTHENTICATED',
    );
    expect(codeOf(await me(token))).toBe('UNAUTHENTICATED');
    expect((await cp.ok(`{ me { username roles } }`, {}, changedToken)).me).toEqual({ username: 'pat.password', roles: ['DEVELOPER'] });
    const renewed = await cp.login('pat.password', 'second-password-2');
    expect(codeOf(await me(renewed))).toBeUndefined();

    // An ADMIN resets the password of a user who lost it; a developer may not, and an unknown user is NOT_FOUND.
    const reset = `mutation($u: String!, $n: String!) { resetPassword(username: $u, newPassword: $n) }`;
    expect(codeOf(await cp.gql(reset, { u: 'pat.password', n: 'third-password-3' }, renewed))).toBe('FORBIDDEN');
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    expect(codeOf(await cp.gql(reset, { u: 'nobody.here', n: 'third-password-3' }, admin))).toBe('NOT_FOUND');
    await nextSecond();
    expect((await cp.ok(reset, { u: 'Pat.Password', n: 'third-password-3' }, admin)).resetPassword).toBe(true);
    expect(codeOf(await me(renewed))).toBe('UNAUTHENTICATED');
    expect(codeOf(await me(changedToken))).toBe('UNAUTHENTICATED');
    await cp.login('pat.password', 'third-password-3');

    const events = await readTopicUntil(testKafka(testBrokers('dc1')), TOPICS.events, (read) =>
      read.some((e) => e.streamId === 'user:pat.password' && e.type === 'user.password-changed'),
    );
    const changed = events.find((e) => e.streamId === 'user:pat.password' && e.type === 'user.password-changed')!;
    expect((changed.payload as { passwordHash: string }).passwordHash).toMatch(/^scrypt\$/);
    const wire = JSON.stringify(events);
    for (const password of ['first-password-1', 'second-password-2', 'third-password-3']) expect(wire).not.toContain(password);
  });

  it('revokes a role at once; a user keeps one role, and an ADMIN cannot revoke their own ADMIN role', async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const grant = `mutation($u: String!, $r: Role!) { grantRole(username: $u, role: $r) { roles } }`;
    const revoke = `mutation($u: String!, $r: Role!) { revokeRole(username: $u, role: $r) { username roles } }`;
    const reasonOf = (result: GqlResult) => result.errors?.[0]?.extensions?.reason;
    const user = await cp.signUp('rex.revoked', 'revoked-password-1');
    await cp.ok(grant, { u: 'rex.revoked', r: 'PUBLISHER' }, admin);
    const asPublisher = `mutation { createThrottlingPolicy(input: { name: "RexOnly", requestsPerMinute: 10 }) { name } }`;
    expect(codeOf(await cp.gql(asPublisher, {}, user))).toBeUndefined();

    // Only an ADMIN may; then the role is gone for the very next request made with the same token.
    expect(codeOf(await cp.gql(revoke, { u: 'rex.revoked', r: 'PUBLISHER' }, user))).toBe('FORBIDDEN');
    expect((await cp.ok(revoke, { u: 'Rex.Revoked', r: 'PUBLISHER' }, admin)).revokeRole).toEqual({
      username: 'rex.revoked',
      roles: ['DEVELOPER'],
    });
    expect(
      codeOf(await cp.gql(`mutation { createThrottlingPolicy(input: { name: "RexTwo", requestsPerMinute: 10 }) { name } }`, {}, user)),
    ).toBe('FORBIDDEN');
    // A role not held: no change. The last role, and one's own ADMIN role: refused, naming why.
    expect((await cp.ok(revoke, { u: 'rex.revoked', r: 'PUBLISHER' }, admin)).revokeRole.roles).toEqual(['DEVELOPER']);
    const last = await cp.gql(revoke, { u: 'rex.revoked', r: 'DEVELOPER' }, admin);
    expect([codeOf(last), reasonOf(last)]).toEqual(['CONFLICT', 'USER.LAST_ROLE']);
    const own = await cp.gql(revoke, { u: ADMIN.username, r: 'ADMIN' }, admin);
    expect([codeOf(own), reasonOf(own)]).toEqual(['CONFLICT', 'USER.OWN_ADMIN_ROLE']);
    expect(codeOf(await cp.gql(revoke, { u: 'nobody.here', r: 'ADMIN' }, admin))).toBe('NOT_FOUND');
    // Another ADMIN can take it: the role goes both ways.
    await cp.ok(grant, { u: 'rex.revoked', r: 'ADMIN' }, admin);
    expect((await cp.ok(revoke, { u: 'rex.revoked', r: 'ADMIN' }, admin)).revokeRole.roles).toEqual(['DEVELOPER']);
  });

  it("deactivates a user at once (sign-in and every token refused) and reactivates them, but never an ADMIN's own account", async () => {
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const token = await cp.signUp('dee.deactivated', 'deactivated-password-1');
    const me = (bearer: string) => cp.gql(`{ me { username } }`, {}, bearer);
    const deactivate = `mutation($u: String!) { deactivateUser(username: $u) }`;
    const reactivate = `mutation($u: String!) { reactivateUser(username: $u) }`;
    expect(codeOf(await cp.gql(deactivate, { u: 'dee.deactivated' }, token))).toBe('FORBIDDEN');
    const own = await cp.gql(deactivate, { u: ADMIN.username }, admin);
    expect([codeOf(own), own.errors?.[0]?.extensions?.reason]).toEqual(['CONFLICT', 'USER.OWN_ACCOUNT']);
    expect(codeOf(await cp.gql(deactivate, { u: 'nobody.here' }, admin))).toBe('NOT_FOUND');

    expect((await cp.ok(deactivate, { u: 'Dee.Deactivated' }, admin)).deactivateUser).toBe(true);
    expect((await me(token)).errors?.[0]?.message).toMatch(/deactivated/);
    const login = `mutation { login(username: "dee.deactivated", password: "deactivated-password-1") { accessToken } }`;
    const refused = await cp.gql(login);
    expect([codeOf(refused), refused.errors?.[0]?.message]).toEqual([
      'UNAUTHENTICATED',
      'This account is deactivated; ask an ADMIN to reactivate it',
    ]);
    // A wrong password is not told that the account exists, deactivated or not.
    expect(
      (await cp.gql(`mutation { login(username: "dee.deactivated", password: "not-the-password") { accessToken } }`)).errors?.[0]?.message,
    ).toBe('Wrong username or password');
    expect((await cp.ok(deactivate, { u: 'dee.deactivated' }, admin)).deactivateUser).toBe(true);

    // Tokens carry their issue time in whole seconds: sign in again after the second of the deactivation.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await cp.ok(reactivate, { u: 'dee.deactivated' }, admin)).reactivateUser).toBe(true);
    expect(codeOf(await me(token))).toBe('UNAUTHENTICATED');
    const again = await cp.login('dee.deactivated', 'deactivated-password-1');
    expect((await cp.ok(`{ me { username } }`, {}, again)).me).toEqual({ username: 'dee.deactivated' });
  });

  it('pages through a list with first and after, and names a bad first or after', async () => {
    const developer = await cp.signUp('paula.pager', 'pager-password-123');
    const names = ['Page A', 'Page B', 'Page C', 'Page D', 'Page E'];
    const ids: string[] = [];
    for (const name of names)
      ids.push(
        (await cp.ok(`mutation($n: String!) { createApplication(input: { name: $n }) { id } }`, { n: name }, developer)).createApplication
          .id,
      );
    const list = `query($first: Int, $after: ID) { applications(first: $first, after: $after) { id name } }`;
    await eventually(async () => expect((await cp.ok(list, {}, developer)).applications).toHaveLength(names.length));

    /** Every page of `field`, `first` rows at a time, as the rows' names (or ids). */
    const pagesOf = async (field: 'applications' | 'apis', first: number, bearer: string) => {
      const pages: string[][] = [];
      for (let after: string | undefined; ;) {
        const page = (
          await cp.ok(`query($first: Int, $after: ID) { ${field}(first: $first, after: $after) { id name } }`, { first, after }, bearer)
        )[field] as { id: string; name: string }[];
        if (page.length === 0) return pages;
        pages.push(page.map((row) => (field === 'apis' ? row.id : row.name)));
        after = page[page.length - 1].id;
      }
    };
    expect(await pagesOf('applications', 2, developer)).toEqual([['Page A', 'Page B'], ['Page C', 'Page D'], ['Page E']]);
    // Without first, everything up to the limit: as before paging existed.
    expect((await cp.ok(list, {}, developer)).applications.map((a: { id: string }) => a.id)).toEqual(ids);

    for (const [variables, field] of [
      [{ first: 0 }, 'first'],
      [{ first: 1001 }, 'first'],
      [{ after: 'no-such-application' }, 'after'],
    ] as const) {
      const refused = await cp.gql(list, variables, developer);
      expect([codeOf(refused), refused.errors?.[0].extensions?.fields]).toEqual(['BAD_USER_INPUT', [field]]);
    }
    // The other paged lists take the same arguments: one API at a time gives the whole list, in its order.
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const allApis = ((await cp.ok(`{ apis { id } }`, {}, admin)).apis as { id: string }[]).map((api) => [api.id]);
    expect(await pagesOf('apis', 1, admin)).toEqual(allApis);
    expect((await cp.ok(`{ subscriptions(first: 1) { id } }`, {}, developer)).subscriptions).toEqual([]);
  });

  it('pages divergent events (oldest first) and conflicts (newest first) with first and after', async () => {
    // Rows as the importer records them (its tests make them for real: multi-dc, active-active); here the listing is under test.
    const store = new Client({ connectionString: db.url });
    await store.connect();
    const eventIds = [1, 2, 3].map((n) => `00000000-0000-7000-8000-00000000000${n}`);
    const conflictIds = ['conflict-a', 'conflict-b', 'conflict-c'];
    try {
      for (const [i, eventId] of eventIds.entries()) {
        await store.query(
          `INSERT INTO divergent_events (event_id, stream_id, version, type, origin_dc, epoch, fenced_in_epoch, reason, recorded_at)
           VALUES ($1, 'api-paged', $2, 'api.updated', 'dc1', 1, 2, 'test', now() - make_interval(mins => $3))`,
          [eventId, i + 1, 10 - i],
        );
        await store.query(
          `INSERT INTO conflicts (id, kind, key, winner_id, winner_dc, winner_event_id, loser_id, loser_dc, loser_event_id, detected_at)
           VALUES ($1, 'API_CONTEXT', $2, 'w', 'dc1', $3, 'l', 'dc2', $3, now() - make_interval(mins => $4))`,
          [conflictIds[i], `/paged${i}/v1`, eventId, 10 - i],
        );
      }
    } finally {
      await store.end();
    }
    const admin = await cp.login(ADMIN.username, ADMIN.password);
    const pagesOf = async (field: 'divergentEvents' | 'conflicts', cursor: 'eventId' | 'id') => {
      const pages: string[][] = [];
      for (let after: string | undefined; ;) {
        const page = (await cp.ok(`query($after: ID) { ${field}(first: 2, after: $after) { ${cursor} } }`, { after }, admin))[
          field
        ] as Record<string, string>[];
        if (page.length === 0) return pages;
        pages.push(page.map((row) => row[cursor]));
        after = page[page.length - 1][cursor];
      }
    };
    expect(await pagesOf('divergentEvents', 'eventId')).toEqual([eventIds.slice(0, 2), eventIds.slice(2)]);
    expect(await pagesOf('conflicts', 'id')).toEqual([['conflict-c', 'conflict-b'], ['conflict-a']]);
    for (const [field, after] of [
      ['divergentEvents', 'not-a-uuid'],
      ['divergentEvents', '00000000-0000-7000-8000-0000000000ff'],
      ['conflicts', 'no-such-conflict'],
    ]) {
      const refused = await cp.gql(`query($after: ID) { ${field}(after: $after) { __typename } }`, { after }, admin);
      expect([codeOf(refused), refused.errors?.[0].extensions?.fields]).toEqual(['BAD_USER_INPUT', ['after']]);
    }
  });

  it('refuses every mutation on a standby with READ_ONLY_REGION naming the primary, and still answers queries', async () => {
    const refused = await standby.gql(`mutation { signUp(username: "sam.standby", password: "standby-password-1") { accessToken } }`);
    expect(codeOf(refused)).toBe('READ_ONLY_REGION');
    expect(refused.errors?.[0].extensions?.primary).toBe('dc1');
    expect(refused.errors?.[0].message).toContain('dc1');
    const ready = await fetch(`${standby.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('limits query depth, body size and login attempts', async () => {
    const deep = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }`;
    expect(codeOf(await cp.gql(deep))).toBe('QUERY_TOO_COMPLEX');
    const huge = await fetch(`${cp.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ apis { id } }`, variables: { padding: 'x'.repeat(400 * 1024) } }),
    });
    expect(huge.status).toBe(413);
    for (let i = 0; i < 3; i++)
      expect(codeOf(await cp.gql(`mutation { login(username: "${ADMIN.username}", password: "wrong-password") { accessToken } }`))).toBe(
        'UNAUTHENTICATED',
      );
    const limited = await cp.gql(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`, {
      u: ADMIN.username,
      p: ADMIN.password,
    });
    expect(codeOf(limited)).toBe('LOGIN_RATE_LIMITED');
  });
});

/** Polls `attempt` until it resolves (the bootstrap and projections run in the background). */
function waitFor<T>(attempt: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  return eventually(attempt, timeoutMs, 200);
}

/** Verifies an ES256 JWT with a JWKS as a gateway would, and returns its claims. */
function verifyWithJwks(token: string, jwks: { keys: JsonWebKey[] }): Record<string, unknown> {
  const [header, payload, signature] = token.split('.');
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string; alg: string };
  expect(alg).toBe('ES256');
  const jwk = jwks.keys.find((key) => (key as { kid?: string }).kid === kid);
  if (!jwk) throw new Error(`kid ${kid} is not in the JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  expect(valid).toBe(true);
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
}
