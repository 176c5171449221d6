import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncomingMessage, createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import {
  decodeGatewayHeartbeat,
  decodeUsage,
  ensureTopics,
  GATEWAY_AUDIENCE,
  generateSigningKeyPair,
  GatewayHeartbeat,
  signJwt,
  TOPICS,
  UsageSummary,
} from '@apim/events';
import { freePort } from '../../tools/infra/free-port';
import { readRecordsUntil } from '../support/events';
import { EventWriter, testApiKey } from '../support/event-writer';
import { eventually, Echo, patternBytes, rawRequest, RunningGateway, startGateway, startUpstream } from '../support/gateway';
import { testKafka } from '../support/kafka';
import { testBrokers } from '../support/test-env';
import { httpsGet, selfSignedCertificate } from '../support/tls';

/**
 * The gateway as a real process, fed by events written straight to dc1's
 * `apim.events` (no control plane anywhere: the gateway needs none), in front
 * of a real upstream HTTP server.
 */
describe('the gateway worker', () => {
  const kafka = testKafka(testBrokers('dc1'));
  const writer = new EventWriter(kafka, { dc: 'dc1' });
  const run = randomBytes(3).toString('hex');
  const gold = `GwGold${run}`;
  const tiny = `GwTiny${run}`;
  const gatewayId = `gw-test-${run}`;
  const signingKey = generateSigningKeyPair();
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gateway: RunningGateway;

  // The application most tests call as, with an API key and an OAuth2 client.
  const appId = randomUUID();
  const clientId = `client-${run}`;
  let key = testApiKey();
  let keyId = randomUUID();
  const apiId = randomUUID();
  const context = `/gw-${run}`;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}${path}`, { headers });
  const withKey = (path: string, apiKey = key.key) => get(path, { apikey: apiKey });
  const bearer = (claims: Record<string, unknown>, signer = signingKey) =>
    `Bearer ${signJwt({ iss: 'apim', aud: GATEWAY_AUDIENCE, sub: clientId, client_id: clientId, application_id: appId, jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 300, ...claims }, signer)}`;

  async function expectError(response: Response, status: number, code: string): Promise<void> {
    const body = (await response.json()) as { error: string; message: string };
    expect({ status: response.status, error: body.error }).toEqual({ status, error: code });
    expect(typeof body.message).toBe('string');
  }

  /** Polls until `path` answers `status`, returning that response. */
  function until(status: number, request: () => Promise<Response>, timeoutMs = 30_000): Promise<Response> {
    return eventually(
      async () => {
        const response = await request();
        if (response.status !== status) {
          const text = await response.text();
          throw new Error(`expected ${status}, got ${response.status}: ${text}`);
        }
        return response;
      },
      timeoutMs,
      20,
    );
  }

  function createApi(id: string, ctx: string, upstreamUrls: string[], extra: Record<string, unknown> = {}) {
    return writer.write('api.created', id, {
      name: `api ${ctx}`,
      version: 'v1',
      context: ctx,
      upstreamUrls,
      upstreamTimeoutMs: 1000,
      operations: [
        { method: 'GET', path: '/oauth/*', auth: 'oauth2' },
        { method: 'GET', path: '/open', auth: 'none' },
        { method: '*', path: '/*', auth: 'apikey' },
      ],
      tiers: [gold, tiny],
      visibility: 'public',
      ...extra,
    });
  }

  /** A new API at `/gw-<name>-<run>`, published, that appId is subscribed to on gold; its context. */
  async function publishedApi(name: string): Promise<string> {
    const id = randomUUID();
    const ctx = `/gw-${name}-${run}`;
    await createApi(id, ctx, [upstream.url]);
    await writer.write('api.published', id, {});
    await writer.write('subscription.created', `sub:${appId}:${id}`, { applicationId: appId, apiId: id, tier: gold });
    return ctx;
  }

  async function subscribedApplication(tier: string): Promise<{ applicationId: string; apiKey: string }> {
    const applicationId = randomUUID();
    const apiKey = testApiKey();
    await writer.write('application.created', applicationId, { ownerId: 'user:dev', name: `app ${applicationId}`, policy: gold });
    await writer.write('subscription.created', `sub:${applicationId}:${apiId}`, { applicationId, apiId, tier });
    await writer.write('apikey.generated', randomUUID(), {
      applicationId,
      keyHash: apiKey.keyHash,
      prefix: apiKey.prefix,
      expiresAt: null,
    });
    return { applicationId, apiKey: apiKey.key };
  }

  beforeAll(async () => {
    // Topics are created by the apps, never automatically; no control plane runs here, so the test creates them as one would.
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [TOPICS.events, TOPICS.analytics, TOPICS.heartbeats, TOPICS.dlq]).finally(() => admin.disconnect());
    upstream = await startUpstream(3000);
    await writer.write('policy.created', `policy:${gold}`, { name: gold, requestsPerMinute: 100_000, burst: 0, unlimited: false });
    await writer.write('policy.created', `policy:${tiny}`, { name: tiny, requestsPerMinute: 2, burst: 0, unlimited: false });
    await writer.write('signing-key.rotated', `signing-key:t${run}`, {
      kid: signingKey.kid,
      alg: 'ES256',
      publicJwk: signingKey.publicJwk,
      activeFrom: new Date().toISOString(),
    });
    await writer.write('application.created', appId, { ownerId: 'user:dev', name: 'main app', policy: gold });
    await writer.write('apikey.generated', keyId, { applicationId: appId, keyHash: key.keyHash, prefix: key.prefix, expiresAt: null });
    await writer.write('oauth-client.registered', clientId, { applicationId: appId, secretHash: 'a'.repeat(64) });
    gateway = await startGateway(
      {
        KAFKA_BROKERS: testBrokers('dc1').join(','),
        GATEWAY_ID: gatewayId,
        BODY_LIMIT_BYTES: '1024',
        HEARTBEAT_INTERVAL_SECONDS: '1',
        // Other files run dc1 gateways on the same cluster: this one's limits must not depend on them.
        RATE_LIMIT_SCOPE: 'gateway',
        // One open WebSocket at a time: the WebSocket test shows the limit.
        WEBSOCKET_MAX_CONNECTIONS: '1',
      },
      'main',
    );
    await until(200, () => fetch(`${gateway.url}/readyz`), 60_000);
  });

  afterAll(async () => {
    await gateway?.process.stop(10_000);
    await upstream?.close();
    await writer.close();
  });

  it('routes a published API to its upstream, and not before it is published', async () => {
    await createApi(apiId, context, [upstream.url]);
    await writer.write('subscription.created', `sub:${appId}:${apiId}`, { applicationId: appId, apiId, tier: gold });
    await until(404, () => withKey(`${context}/v1/things/1`));

    await writer.write('api.published', apiId, {});
    const response = await until(200, () => withKey(`${context}/v1/things/1?x=1&y=%20`, key.key));
    const echo = (await response.json()) as Echo;
    expect(echo).toMatchObject({ method: 'GET', url: '/things/1?x=1&y=%20' });
    expect(echo.headers.apikey).toBeUndefined();
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echo.headers['x-request-id']).toEqual(response.headers.get('x-request-id'));
    expect(echo.headers['x-apim-application-id']).toBe(appId);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(response.headers.get('x-secret-hop')).toBeNull();
    expect(response.headers.get('ratelimit-limit')).toBe('100000');
    expect(Number(response.headers.get('ratelimit-remaining'))).toBeGreaterThan(0);

    const posted = await fetch(`${gateway.url}${context}/v1/orders`, {
      method: 'POST',
      headers: { apikey: key.key },
      body: 'x'.repeat(500),
    });
    expect(posted.status).toBe(200);
    expect(((await posted.json()) as Echo).bodyBytes).toBe(500);
  });

  it('relays responses whole: small ones with their length, large and chunked ones streamed, HEAD and 204 without a body', async () => {
    const get = (path: string, init: RequestInit = {}) =>
      fetch(`${gateway.url}${context}/v1${path}`, { ...init, headers: { apikey: key.key, ...init.headers } });
    // Chunked upstream responses: a small one is read whole and gets its length, a large one is streamed.
    const small = await get('/bytes/30000');
    expect(small.status).toBe(200);
    expect(small.headers.get('content-length')).toBe('30000');
    expect(Buffer.from(await small.arrayBuffer()).equals(patternBytes(30_000))).toBe(true);
    const large = await get('/bytes/1000000');
    expect(large.status).toBe(200);
    expect(large.headers.get('content-length')).toBeNull();
    expect(large.headers.get('x-request-id')).toMatch(/./);
    expect(Buffer.from(await large.arrayBuffer()).equals(patternBytes(1_000_000))).toBe(true);

    const head = await get('/things/1', { method: 'HEAD' });
    expect(head.status).toBe(200);
    // The upstream's own answer to HEAD states no length: the gateway does not make one up (0 would be a lie).
    expect((await fetch(`${upstream.url}/things/1`, { method: 'HEAD' })).headers.get('content-length')).toBeNull();
    expect(head.headers.get('content-length')).toBeNull();
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const empty = await get('/no-content');
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-upstream')).toBe('yes');
    expect((await empty.arrayBuffer()).byteLength).toBe(0);

    // A client that leaves in the middle of a large response does not harm the next one.
    const aborted = new AbortController();
    const leaving = await get('/bytes/20000000', { signal: aborted.signal });
    await leaving.body!.getReader().read();
    aborted.abort();
    expect((await get('/things/2')).status).toBe(200);
  });

  it('takes an upload sent with Expect: 100-continue (as curl sends with larger bodies)', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const upload = request(
        `${gateway.url}${context}/v1/uploads`,
        { method: 'POST', headers: { apikey: key.key, expect: '100-continue', 'content-length': 1000 } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      upload.on('continue', () => upload.end('z'.repeat(1000)));
      upload.on('error', reject);
    });
    expect(answer.status).toBe(200);
    const echo = JSON.parse(answer.body) as Echo;
    expect(echo).toMatchObject({ method: 'POST', url: '/uploads', bodyBytes: 1000 });
    expect(echo.headers.expect).toBeUndefined();
  });

  it('answers 404 for an unknown API or operation, and lets an operation without auth through', async () => {
    await expectError(await withKey(`/nothing-${run}/v1/x`), 404, 'NO_SUCH_API');
    await expectError(await withKey(`${context}/v2/x`), 404, 'NO_SUCH_API');
    const narrowId = randomUUID();
    const narrow = `/gw-narrow-${run}`;
    await createApi(narrowId, narrow, [upstream.url], { operations: [{ method: 'GET', path: '/items/{id}', auth: 'none' }] });
    await writer.write('api.published', narrowId, {});
    const item = await until(200, () => get(`${narrow}/v1/items/42`));
    expect(((await item.json()) as Echo).url).toBe('/items/42');
    await expectError(await fetch(`${gateway.url}${narrow}/v1/items/42`, { method: 'POST' }), 404, 'NO_SUCH_OPERATION');
    await expectError(await get(`${narrow}/v1/items/42/more`), 404, 'NO_SUCH_OPERATION');
    await expectError(await get(`${narrow}/v1/other`), 404, 'NO_SUCH_OPERATION');
  });

  it('refuses a missing, wrong, expired or revoked API key with 401, a revocation within a second of its event', async () => {
    await expectError(await get(`${context}/v1/x`), 401, 'MISSING_CREDENTIALS');
    await expectError(await withKey(`${context}/v1/x`, testApiKey().key), 401, 'INVALID_CREDENTIALS');
    const expired = testApiKey();
    await writer.write('apikey.generated', randomUUID(), {
      applicationId: appId,
      keyHash: expired.keyHash,
      prefix: expired.prefix,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    // An unknown key is refused too (INVALID): wait for the event to turn it into an expired one.
    await eventually(async () => expectError(await withKey(`${context}/v1/x`, expired.key), 401, 'EXPIRED_CREDENTIALS'));

    expect((await withKey(`${context}/v1/x`)).status).toBe(200);
    await writer.write('apikey.revoked', keyId, { applicationId: appId });
    const acknowledgedAt = Date.now();
    const refused = await until(401, () => withKey(`${context}/v1/x`), 5000);
    const effectiveAfterMs = Date.now() - acknowledgedAt;
    await expectError(refused, 401, 'REVOKED_CREDENTIALS');
    expect(effectiveAfterMs).toBeLessThan(1000);

    key = testApiKey();
    keyId = randomUUID();
    await writer.write('apikey.generated', keyId, { applicationId: appId, keyHash: key.keyHash, prefix: key.prefix, expiresAt: null });
    await until(200, () => withKey(`${context}/v1/x`));
  });

  it('verifies OAuth2 tokens offline: signature, expiry, audience, issuer and revocation', async () => {
    const path = `${context}/v1/oauth/me`;
    const call = (authorization: string) => get(path, { authorization });
    const valid = await call(bearer({}));
    expect(valid.status).toBe(200);
    expect(((await valid.json()) as Echo).headers.authorization).toBeUndefined();

    await expectError(await get(path), 401, 'MISSING_CREDENTIALS');
    await expectError(await call(bearer({ exp: Math.floor(Date.now() / 1000) - 120 })), 401, 'EXPIRED_CREDENTIALS');
    await expectError(await call(bearer({ aud: 'somebody-else' })), 401, 'INVALID_CREDENTIALS');
    await expectError(await call(bearer({ iss: 'not-apim' })), 401, 'INVALID_CREDENTIALS');
    await expectError(await call(bearer({}, generateSigningKeyPair())), 401, 'INVALID_CREDENTIALS');
    const forged = bearer({}).replace(/.{4}$/, 'AAAA');
    await expectError(await call(forged), 401, 'INVALID_CREDENTIALS');

    const jti = randomUUID();
    const revocable = bearer({ jti });
    expect((await call(revocable)).status).toBe(200);
    await writer.write('token.revoked', `token:${jti}`, {
      jti,
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
      applicationId: appId,
    });
    const acknowledgedAt = Date.now();
    const refused = await until(401, () => call(revocable), 5000);
    expect(Date.now() - acknowledgedAt).toBeLessThan(1000);
    await expectError(refused, 401, 'REVOKED_CREDENTIALS');
    expect((await call(bearer({}))).status).toBe(200);
  });

  it('answers 403 to an application that is not subscribed, or whose subscription is blocked, and 200 again once allowed', async () => {
    const stranger = testApiKey();
    const strangerApp = randomUUID();
    await writer.write('application.created', strangerApp, { ownerId: 'user:other', name: 'stranger', policy: gold });
    await writer.write('apikey.generated', randomUUID(), {
      applicationId: strangerApp,
      keyHash: stranger.keyHash,
      prefix: stranger.prefix,
      expiresAt: null,
    });
    await expectError(await until(403, () => withKey(`${context}/v1/x`, stranger.key)), 403, 'NOT_SUBSCRIBED');

    const subscription = `sub:${appId}:${apiId}`;
    await writer.write('subscription.blocked', subscription, {});
    await expectError(await until(403, () => withKey(`${context}/v1/x`)), 403, 'SUBSCRIPTION_BLOCKED');
    await writer.write('subscription.unblocked', subscription, {});
    await until(200, () => withKey(`${context}/v1/x`));
    await writer.write('subscription.removed', subscription, {});
    await expectError(await until(403, () => withKey(`${context}/v1/x`)), 403, 'NOT_SUBSCRIBED');
    await writer.write('subscription.created', subscription, { applicationId: appId, apiId, tier: gold });
    await until(200, () => withKey(`${context}/v1/x`));
  });

  it('rate-limits by subscription tier with 429, Retry-After and RateLimit headers', async () => {
    const { apiKey } = await subscribedApplication(tiny);
    const first = await until(200, () => withKey(`${context}/v1/x`, apiKey));
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    expect(first.headers.get('ratelimit-remaining')).toBe('1');
    expect((await withKey(`${context}/v1/x`, apiKey)).status).toBe(200);
    const limited = await withKey(`${context}/v1/x`, apiKey);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('ratelimit-limit')).toBe('2');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    await expectError(limited, 429, 'RATE_LIMITED');
    // Other applications keep their own buckets.
    expect((await withKey(`${context}/v1/x`)).status).toBe(200);
  });

  it('rate-limits an API as a whole by its own throttling policy, across applications and anonymous callers', async () => {
    const throttledId = randomUUID();
    const throttled = `/gw-throttled-${run}`;
    await createApi(throttledId, throttled, [upstream.url], { throttlingPolicy: tiny });
    await writer.write('api.published', throttledId, {});
    await writer.write('subscription.created', `sub:${appId}:${throttledId}`, { applicationId: appId, apiId: throttledId, tier: gold });
    // Refusals before the rate limit (404 while the API is not routable, 403 while the subscription is not applied yet) take no token.
    const first = await until(200, () => withKey(`${throttled}/v1/x`));
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    // An anonymous caller takes the second token of the same bucket; then the application's Gold tier would allow more, the API's bucket does not.
    expect((await fetch(`${gateway.url}${throttled}/v1/open`)).status).toBe(200);
    await expectError(await withKey(`${throttled}/v1/x`), 429, 'RATE_LIMITED');
    expect((await fetch(`${gateway.url}${throttled}/v1/open`)).status).toBe(429);
    // Removed by an update: the tier and the application's policy are what is left.
    await writer.write('api.updated', throttledId, { throttlingPolicy: null });
    await until(200, () => withKey(`${throttled}/v1/x`));
  });

  it("shares a tier's rate among the serving gateways of a DC, and gives a stopped gateway's share back", async () => {
    // A DC of its own, so that only these two gateways' heartbeats count; they read the same apim.events.
    const env = { KAFKA_BROKERS: testBrokers('dc1').join(','), DC_ID: `s${run}`, HEARTBEAT_INTERVAL_SECONDS: '1' };
    const one = await startGateway({ ...env, GATEWAY_ID: `gw-share-1-${run}` }, 'share-1');
    const two = await startGateway({ ...env, GATEWAY_ID: `gw-share-2-${run}` }, 'share-2');
    const sharedBy = async (gw: RunningGateway) =>
      Number(/apim_gateway_rate_limit_gateways\{[^}]*\} (\d+)/.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1]);
    try {
      for (const gw of [one, two]) await until(200, () => fetch(`${gw.url}/readyz`), 60_000);
      await eventually(async () => expect([await sharedBy(one), await sharedBy(two)]).toEqual([2, 2]), 30_000);

      // The tiny tier allows 2 a minute in the DC: one at each gateway, whichever they come to.
      const { apiKey } = await subscribedApplication(tiny);
      const call = (gw: RunningGateway) => fetch(`${gw.url}${context}/v1/x`, { headers: { apikey: apiKey } });
      const first = await until(200, () => call(one));
      expect(first.headers.get('ratelimit-limit')).toBe('2');
      await expectError(await call(one), 429, 'RATE_LIMITED');
      const second = await until(200, () => call(two));
      expect(second.headers.get('ratelimit-remaining')).toBe('0');
      await expectError(await call(two), 429, 'RATE_LIMITED');

      // A gateway that stops says so in its last heartbeat: the other takes the whole rate at once.
      await two.process.stop(10_000);
      await eventually(async () => expect(await sharedBy(one)).toBe(1), 30_000);
      const alone = await subscribedApplication(tiny);
      const callAlone = () => fetch(`${one.url}${context}/v1/x`, { headers: { apikey: alone.apiKey } });
      expect((await until(200, callAlone)).headers.get('ratelimit-remaining')).toBe('1');
      expect((await callAlone()).status).toBe(200);
      await expectError(await callAlone(), 429, 'RATE_LIMITED');
    } finally {
      await Promise.all([one.process.stop(10_000), two.process.stop(10_000)]);
    }
  });

  it('follows the lifecycle: blocked gives 403, deprecated still routes, retired gives 404', async () => {
    await writer.write('api.blocked', apiId, {});
    await expectError(await until(403, () => withKey(`${context}/v1/x`)), 403, 'API_BLOCKED');
    await writer.write('api.unblocked', apiId, {});
    await until(200, () => withKey(`${context}/v1/x`));
    await writer.write('api.deprecated', apiId, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await withKey(`${context}/v1/x`)).status).toBe(200);
    await writer.write('api.retired', apiId, {});
    await expectError(await until(404, () => withKey(`${context}/v1/x`)), 404, 'NO_SUCH_API');
  });

  it('answers 502 when the upstream is down and 504 when it is too slow', async () => {
    const downId = randomUUID();
    const slowId = randomUUID();
    const downContext = `/gw-down-${run}`;
    const slowContext = `/gw-slow-${run}`;
    await createApi(downId, downContext, [`http://127.0.0.1:${await freePort()}`]);
    await createApi(slowId, slowContext, [upstream.url], { upstreamTimeoutMs: 300 });
    for (const id of [downId, slowId]) {
      await writer.write('api.published', id, {});
      await writer.write('subscription.created', `sub:${appId}:${id}`, { applicationId: appId, apiId: id, tier: gold });
    }
    await expectError(await until(502, () => withKey(`${downContext}/v1/x`)), 502, 'UPSTREAM_ERROR');
    await expectError(await until(504, () => withKey(`${slowContext}/v1/slow`)), 504, 'UPSTREAM_TIMEOUT');
    expect((await withKey(`${slowContext}/v1/fast`)).status).toBe(200);
  });

  it('refuses paths that escape their API and request smuggling shapes with 400', async () => {
    const live = await publishedApi('live');
    await until(200, () => withKey(`${live}/v1/x`));

    const send = (target: string, headers = '') =>
      rawRequest(gateway.port, `GET ${target} HTTP/1.1\r\nhost: x\r\napikey: ${key.key}\r\n${headers}\r\n`);
    for (const target of [`${live}/v1/../../admin`, `${live}/v1/%2e%2e/x`, `${live}/v1/a%2Fb`, `${live}/v1/a%5cb`, `${live}/v1/./x`]) {
      const answer = await send(target);
      expect({ target, status: answer.status }).toEqual({ target, status: 400 });
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'BAD_REQUEST' });
    }
    expect((await send(`${live}/v1/fine`)).status).toBe(200);

    const post = (headers: string, body: string) =>
      rawRequest(gateway.port, `POST ${live}/v1/x HTTP/1.1\r\nhost: x\r\napikey: ${key.key}\r\n${headers}\r\n${body}`);
    const both = await post('content-length: 5\r\ntransfer-encoding: chunked\r\n', '0\r\n\r\n');
    expect(both.status).toBe(400);
    expect(JSON.parse(both.body)).toMatchObject({ error: 'BAD_REQUEST' });
    const twice = await post('content-length: 1\r\ncontent-length: 1\r\n', 'a');
    expect(twice.status).toBe(400);
    expect(JSON.parse(twice.body)).toMatchObject({ error: 'BAD_REQUEST' });
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const live = `/gw-live-${run}`;
    const declared = await fetch(`${gateway.url}${live}/v1/upload`, {
      method: 'POST',
      headers: { apikey: key.key },
      body: 'x'.repeat(2000),
    });
    await expectError(declared, 413, 'PAYLOAD_TOO_LARGE');
    const chunked = await rawRequest(
      gateway.port,
      `POST ${live}/v1/upload HTTP/1.1\r\nhost: x\r\napikey: ${key.key}\r\ntransfer-encoding: chunked\r\n\r\n7d0\r\n${'y'.repeat(2000)}\r\n0\r\n\r\n`,
    );
    expect(chunked.status).toBe(413);
    expect(
      (await fetch(`${gateway.url}${live}/v1/upload`, { method: 'POST', headers: { apikey: key.key }, body: 'x'.repeat(1000) })).status,
    ).toBe(200);
  });

  it('exports metrics, writes usage records to apim.analytics and heartbeats to apim.heartbeats', async () => {
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`apim_gateway_requests_total\\{api="${apiId}",status="200"[^}]*\\} [1-9]`));
    // The latency histogram: cumulative buckets ending in +Inf, which equals the count.
    const count = new RegExp(`apim_gateway_request_duration_seconds_count\\{api="${apiId}"[^}]*\\} (\\d+)`).exec(metrics)?.[1];
    const infinite = new RegExp(`apim_gateway_request_duration_seconds_bucket\\{le="\\+Inf",api="${apiId}"[^}]*\\} (\\d+)`).exec(
      metrics,
    )?.[1];
    expect(Number(count)).toBeGreaterThan(0);
    expect(infinite).toBe(count);
    expect(metrics).toMatch(new RegExp(`apim_gateway_request_duration_seconds_sum\\{api="${apiId}"[^}]*\\} \\d`));
    expect(metrics).toMatch(/apim_gateway_event_lag_records\{topic="apim.events",partition="0"/);
    expect(metrics).toMatch(/apim_gateway_last_event_age_seconds\{[^}]*\} \d/);
    expect(metrics).toMatch(/apim_gateway_ready\{[^}]*\} 1/);
    expect(metrics).toMatch(/apim_gateway_rate_limit_gateways\{[^}]*\} 1/);
    expect(metrics).toMatch(/apim_gateway_telemetry_thread_restarts\{[^}]*\} 0/);
    expect(metrics).toMatch(/apim_gateway_telemetry_records\{outcome="dropped"[^}]*\} 0/);

    // A summary per API, application and minute, each second: what the tests above sent through apiId adds up.
    const total = (summaries: UsageSummary[], field: 'requests' | 'clientErrors' | 'requestBytes') =>
      summaries.reduce((sum, s) => sum + s[field], 0);
    const usage = await readRecordsUntil<UsageSummary>(
      kafka,
      TOPICS.analytics,
      ({ value }) => {
        const decoded = decodeUsage(value);
        if (!decoded.ok || !('kind' in decoded.usage)) return null;
        return decoded.usage.gatewayId === gatewayId && decoded.usage.apiId === apiId ? decoded.usage : null;
      },
      // The rate-limit test's 429s, and the 500-byte upload of the first test.
      (summaries) => total(summaries, 'clientErrors') >= 1 && total(summaries, 'requestBytes') >= 500,
      30_000,
    );
    expect(usage.find((s) => s.applicationId === appId)).toMatchObject({ dc: 'dc1', apiId, kind: 'summary' });
    expect(total(usage, 'requests')).toBeGreaterThan(total(usage, 'clientErrors'));

    const heartbeats = await readRecordsUntil<GatewayHeartbeat>(
      kafka,
      TOPICS.heartbeats,
      ({ value }) => {
        const decoded = decodeGatewayHeartbeat(value);
        return decoded?.ok && decoded.heartbeat.gatewayId === gatewayId ? decoded.heartbeat : null;
      },
      (beats) => beats.some((b) => b.state === 'ready'),
      30_000,
    );
    const beat = heartbeats.find((b) => b.state === 'ready')!;
    expect(beat).toMatchObject({ dc: 'dc1', gatewayId });
    expect(beat.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(beat.positions.some((p) => p.topic === TOPICS.events)).toBe(true);
  });

  /** An upstream that echoes WebSocket messages (the ws package), closes on 'bye', and refuses the upgrade on /base/refuse with a 403 of its own. */
  async function startWsEcho(): Promise<{ server: HttpServer; sockets: WebSocketServer; seen: IncomingMessage[]; url: string }> {
    const seen: IncomingMessage[] = [];
    const server = createHttpServer((_req, res) => res.end('plain'));
    const sockets = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      seen.push(req);
      if (req.url === '/base/refuse')
        return socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nnot ok');
      sockets.handleUpgrade(req, socket, head, (ws) =>
        ws.on('message', (data, binary) =>
          String(data) === 'bye' ? ws.close(4000, 'bye') : ws.send(binary ? data : `echo ${String(data)}`),
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, sockets, seen, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/base` };
  }

  it('proxies WebSockets: the handshake is checked like any request, then messages flow both ways until either side closes', async () => {
    const { server, sockets, seen, url: upstreamUrl } = await startWsEcho();
    const wsApi = randomUUID();
    const wsContext = `/gw-ws-${run}`;
    await createApi(wsApi, wsContext, [upstreamUrl]);
    await writer.write('api.published', wsApi, {});
    await writer.write('subscription.created', `sub:${appId}:${wsApi}`, { applicationId: appId, apiId: wsApi, tier: gold });
    const url = (path: string) => `ws://127.0.0.1:${gateway.port}${wsContext}/v1${path}`;
    /** Opens a WebSocket through the gateway; resolves once open, or with the HTTP answer that refused it. */
    const open = (path: string, headers: Record<string, string>) =>
      new Promise<{ ws?: WebSocket; status?: number; body?: string; headers?: Record<string, unknown> }>((resolve, reject) => {
        const ws = new WebSocket(url(path), { headers });
        ws.once('open', () => resolve({ ws }));
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
        });
        ws.once('error', reject);
      });
    try {
      await until(200, () => withKey(`${wsContext}/v1/plain`));
      const { ws } = await open('/chat?room=1', { apikey: key.key });
      const messages: string[] = [];
      ws!.on('message', (data) => messages.push(String(data)));
      ws!.send('hello');
      ws!.send('world');
      await eventually(async () => expect(messages).toEqual(['echo hello', 'echo world']));
      // This gateway holds one open WebSocket at most (WEBSOCKET_MAX_CONNECTIONS=1): another handshake gets 503 meanwhile.
      const over = await open('/chat', { apikey: key.key });
      expect(over.status).toBe(503);
      expect(JSON.parse(over.body!)).toMatchObject({ error: 'TOO_MANY_WEBSOCKETS' });
      expect(await (await get('/metrics')).text()).toMatch(/^apim_gateway_websockets_open\{[^}]*\} 1$/m);
      // A large binary message both ways: through the tunnel's back-pressure, intact.
      const big = patternBytes(3 * 1024 * 1024);
      const echoed = new Promise<Buffer>((resolve) => ws!.once('message', (data) => resolve(data as Buffer)));
      ws!.send(big);
      expect((await echoed).equals(big)).toBe(true);
      const handshake = seen[seen.length - 1];
      expect(handshake.url).toBe('/base/chat?room=1');
      expect(handshake.headers).toMatchObject({ upgrade: 'websocket', 'x-forwarded-for': '127.0.0.1', 'x-apim-application-id': appId });
      expect(handshake.headers.apikey).toBeUndefined();
      const closed = new Promise<number>((resolve) => ws!.once('close', (code) => resolve(code)));
      ws!.close(1000, 'done');
      expect(await closed).toBe(1000);
      await eventually(async () => expect(await (await get('/metrics')).text()).toMatch(/^apim_gateway_websockets_open\{[^}]*\} 0$/m));
      // Closed by the upstream: the client sees its close frame.
      const second = (await open('/chat', { apikey: key.key })).ws!;
      const closedByUpstream = new Promise<number>((resolve) => second.once('close', (code) => resolve(code)));
      second.send('bye');
      expect(await closedByUpstream).toBe(4000);

      // The handshake is a request like any: no key, no tunnel.
      expect(await open('/chat', {})).toMatchObject({ status: 401 });
      expect(JSON.parse((await open('/chat', {})).body!)).toMatchObject({ error: 'MISSING_CREDENTIALS' });
      // The upstream's own refusal reaches the client as it was sent.
      expect(await open('/refuse', { apikey: key.key })).toMatchObject({ status: 403, body: 'not ok' });
      // An upstream that is gone: 502, as for any request.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      const gone = await open('/chat', { apikey: key.key });
      expect(gone.status).toBe(502);
      expect(JSON.parse(gone.body!)).toMatchObject({ error: 'UPSTREAM_ERROR' });
      // 101s are counted like any status: the two tunnels opened above.
      const metrics = await (await get('/metrics')).text();
      expect(metrics).toMatch(new RegExp(`apim_gateway_requests_total\\{[^}]*api="${wsApi}"[^}]*status="101"[^}]*\\} 2`));
    } finally {
      server.closeAllConnections();
      server.close();
      sockets.close();
    }
  });

  it('serves HTTPS on TLS_PORT besides plain HTTP, and takes a new certificate on SIGHUP unless it is unusable', async () => {
    const context = await publishedApi('tls');
    const dir = mkdtempSync(join(tmpdir(), 'apim-gateway-tls-'));
    const [certFile, keyFile] = [join(dir, 'served.cert.pem'), join(dir, 'served.key.pem')];
    const install = (pair: { certFile: string; keyFile: string }) => {
      copyFileSync(pair.certFile, certFile);
      copyFileSync(pair.keyFile, keyFile);
    };
    const first = selfSignedCertificate(dir, 'gateway-one');
    install(first);
    const tlsPort = await freePort();
    const secure = await startGateway(
      { KAFKA_BROKERS: testBrokers('dc1').join(','), TLS_PORT: String(tlsPort), TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile },
      'tls',
    );
    try {
      await until(200, () => fetch(`${secure.url}/readyz`), 60_000);
      const call = (ca: Buffer) => httpsGet<Echo>(tlsPort, `${context}/v1/things/3`, { headers: { apikey: key.key }, ca });
      const answer = await eventually(async () => {
        const got = await call(first.cert);
        expect(got.status).toBe(200);
        return got;
      });
      expect(answer.peer).toBe('gateway-one');
      expect(answer.body).toMatchObject({ method: 'GET', url: '/things/3' });
      expect(answer.body.headers['x-forwarded-proto']).toBe('https');
      const plain = (await (await fetch(`${secure.url}${context}/v1/things/4`, { headers: { apikey: key.key } })).json()) as Echo;
      expect(plain.headers['x-forwarded-proto']).toBe('http');
      // A client that does not trust the certificate stops at its own check.
      await expect(httpsGet(tlsPort, '/healthz')).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
      expect(readFileSync(secure.logFile, 'utf8')).toMatch(new RegExp(`"msg":"listening".*"tlsPort":${tlsPort}`));

      // WebSockets over TLS (wss) through the same listener.
      const echo = await startWsEcho();
      try {
        const wssApi = randomUUID();
        await createApi(wssApi, `/gw-wss-${run}`, [echo.url]);
        await writer.write('api.published', wssApi, {});
        await writer.write('subscription.created', `sub:${appId}:${wssApi}`, { applicationId: appId, apiId: wssApi, tier: gold });
        await until(200, () => fetch(`${secure.url}/gw-wss-${run}/v1/plain`, { headers: { apikey: key.key } }));
        const wss = new WebSocket(`wss://127.0.0.1:${tlsPort}/gw-wss-${run}/v1/chat`, { headers: { apikey: key.key }, ca: first.cert });
        const reply = new Promise<string>((resolve, reject) => {
          wss.once('message', (data) => resolve(String(data)));
          wss.once('error', reject);
        });
        wss.once('open', () => wss.send('over tls'));
        expect(await reply).toBe('echo over tls');
        expect(echo.seen[0].headers['x-forwarded-proto']).toBe('https');
        wss.close();
      } finally {
        echo.server.closeAllConnections();
        echo.server.close();
        echo.sockets.close();
      }

      // Rotation: new files, SIGHUP; new connections get the new certificate.
      const second = selfSignedCertificate(dir, 'gateway-two');
      install(second);
      secure.process.hangUp();
      await eventually(async () => expect((await call(second.cert)).peer).toBe('gateway-two'));
      expect(readFileSync(secure.logFile, 'utf8')).toContain('"msg":"TLS certificate reloaded"');

      // An unusable file is refused, and the certificate in use stays.
      writeFileSync(certFile, 'not a certificate');
      secure.process.hangUp();
      await eventually(async () =>
        expect(readFileSync(secure.logFile, 'utf8')).toContain('"msg":"TLS certificate not reloaded; the previous one is still served"'),
      );
      expect(await call(second.cert)).toMatchObject({ status: 200, peer: 'gateway-two' });
      expect(secure.process.running).toBe(true);
    } finally {
      await secure.process.stop(10_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the same on node:net sockets when GATEWAY_SOCKETS=node, and logs which sockets it uses', async () => {
    // apiId was retired by the lifecycle test: an API of its own.
    const nodeContext = await publishedApi('node');
    const onNode = await startGateway({ KAFKA_BROKERS: testBrokers('dc1').join(','), GATEWAY_SOCKETS: 'node' }, 'node-sockets');
    try {
      await until(200, () => fetch(`${onNode.url}/readyz`), 60_000);
      const response = await until(200, () => fetch(`${onNode.url}${nodeContext}/v1/things/2`, { headers: { apikey: key.key } }));
      const echo = (await response.json()) as Echo;
      expect(echo).toMatchObject({ method: 'GET', url: '/things/2' });
      expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(readFileSync(onNode.logFile, 'utf8')).toMatch(/"msg":"listening".*"sockets":"node"/);
      // The default, on this Node.js: raw sockets.
      expect(readFileSync(gateway.logFile, 'utf8')).toMatch(/"msg":"listening".*"sockets":"raw"/);
    } finally {
      await onNode.process.stop(10_000);
    }
  });
});
