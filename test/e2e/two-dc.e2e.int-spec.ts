import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../tools/infra/free-port';
import { repoRoot } from '../../tools/infra/repo-root';
import { GqlRefused, GraphQlClient } from '../../tools/stack/graphql.client';
import { DcLayout, LocalStack } from '../../tools/stack/stack';
import { eventually } from '../support/gateway';

type Dc = 'dc1' | 'dc2';

/**
 * The product end to end, as its users reach it: a two-DC stack started the
 * way `npm start` starts it (LocalStack, the same demo seeding), on free ports
 * and in a run directory of its own, then only public interfaces: GraphQL over
 * HTTP, the gateways over HTTP, and apimctl as a subprocess. The scenarios
 * build on each other and run in order. The run directory (.run/test/e2e-<pid>:
 * progress in stack.log, app logs in logs/) is kept when a test fails, or
 * with APIM_E2E_KEEP=1.
 */
describe('two DCs end to end, through public interfaces only', () => {
  const runDir = join(repoRoot(), '.run', 'test', `e2e-${process.pid}`);
  const admin = { username: 'e2e-admin', password: `e2e-${randomBytes(12).toString('base64url')}` };
  const run = randomBytes(3).toString('hex');
  let stack: LocalStack;
  let cp: Record<Dc, GraphQlClient>;
  let gateway: Record<Dc, string>;
  let upstream = '';
  let passed = 0;
  /** Written in dc2 after the failover: a key and an API that dc1 must know once it is back. */
  let afterFailover: { path: string; key: string };

  const log = (line: string) => appendFileSync(join(runDir, 'stack.log'), `${new Date().toISOString()} ${line}\n`);

  beforeAll(async () => {
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    stack = new LocalStack({
      runDir,
      descriptionFile: join(runDir, 'stack.json'),
      layout: await freeLayout(),
      upstreamPort: 0,
      kafkaFromEnv: false,
      admin,
      log,
    });
    const description = await stack.start();
    const url = (dc: Dc) => description.dcs.find((d) => d.dc === dc)!;
    cp = { dc1: new GraphQlClient(url('dc1').controlPlane), dc2: new GraphQlClient(url('dc2').controlPlane) };
    gateway = { dc1: url('dc1').gateway, dc2: url('dc2').gateway };
    upstream = description.upstream;
  }, 180_000);

  afterAll(async () => {
    const failed = passed < 4;
    if (failed) console.error(logTails(runDir));
    await stack?.stop();
    await stack?.dropDatabases().catch(() => undefined);
    if (!failed && !process.env.APIM_E2E_KEEP) rmSync(runDir, { recursive: true, force: true });
  }, 120_000);

  it('serves an API published in dc1 through dc2 gateway: the seeded demo, and one published now', async () => {
    const demo = stack.demo!;
    const seeded = await call('dc2', demo.path, demo.key);
    expect(seeded).toMatchObject({ status: 200, body: { upstream: 'sample-upstream', url: '/hello' } });

    const adminAt1 = await cp.dc1.login(admin.username, admin.password);
    const context = `/orders-${run}`;
    const api = (
      await cp.dc1.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
        { input: { name: 'Orders', version: 'v1', context, upstreamUrls: [upstream] } },
        adminAt1,
      )
    ).createApi;
    expect(api.homeDc).toBe('dc1');
    await cp.dc1.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, adminAt1);
    const developer = await cp.dc1.login(demo.developer.username, demo.developer.password!);
    await cp.dc1.ok(
      `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
      { app: demo.applicationId, api: api.id },
      developer,
    );

    for (const dc of ['dc2', 'dc1'] as Dc[])
      await eventually(
        async () => expect(await call(dc, `${context}/v1/items?n=1`, demo.key)).toMatchObject({ status: 200, body: { url: '/items?n=1' } }),
        60_000,
        250,
      );
    passed++;
  }, 120_000);

  it('refuses a key revoked in dc1 with 401 at both gateways', async () => {
    const demo = stack.demo!;
    const developer = await cp.dc1.login(demo.developer.username, demo.developer.password!);
    const { keyId, key } = (
      await cp.dc1.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { keyId key } }`, { app: demo.applicationId }, developer)
    ).generateApiKey;
    // Accepted first at both, so that the 401 below is the revocation's doing.
    for (const dc of ['dc1', 'dc2'] as Dc[])
      await eventually(async () => expect((await call(dc, demo.path, key)).status).toBe(200), 60_000, 250);

    expect((await cp.dc1.ok(`mutation($id: ID!) { revokeApiKey(keyId: $id) }`, { id: keyId }, developer)).revokeApiKey).toBe(true);
    for (const dc of ['dc1', 'dc2'] as Dc[])
      await eventually(
        async () => expect(await call(dc, demo.path, key)).toMatchObject({ status: 401, body: { error: 'REVOKED_CREDENTIALS' } }),
        60_000,
        250,
      );
    for (const dc of ['dc1', 'dc2'] as Dc[]) expect((await call(dc, demo.path, demo.key)).status).toBe(200);
    passed++;
  }, 120_000);

  it('fails over to dc2 with dc1 lost (apimctl): dc2 takes writes and its gateway keeps serving', async () => {
    const demo = stack.demo!;
    // The admin and the developer reached dc2 with the demo (whose key dc2 gateway accepts): sign in there while dc1 is up.
    const adminAt2 = await loginAfterReplication(cp.dc2, admin.username, admin.password);
    const developerAt2 = await loginAfterReplication(cp.dc2, demo.developer.username, demo.developer.password!);

    log('test: killing dc1');
    await stack.killDc('dc1'); // control plane, gateway, replicator and Kafka, SIGKILL
    const down = await apimctl(['status']);
    expect(down.code).toBe(3);
    expect(down.stdout).toMatch(/^dc1\s+UNREACHABLE/m);

    const failover = await apimctl(['failover', '--to', 'dc2']);
    expect(failover).toMatchObject({ code: 0 });
    expect(failover.stdout).toContain('dc2 is now primary in epoch 2');

    const context = `/after-${run}`;
    const api = (
      await cp.dc2.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
        { input: { name: 'After failover', version: 'v1', context, upstreamUrls: [upstream] } },
        adminAt2,
      )
    ).createApi;
    expect(api.homeDc).toBe('dc2');
    await cp.dc2.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, adminAt2);
    await cp.dc2.ok(
      `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
      { app: demo.applicationId, api: api.id },
      developerAt2,
    );
    const { key } = (
      await cp.dc2.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: demo.applicationId }, developerAt2)
    ).generateApiKey;
    afterFailover = { path: `${context}/v1/items`, key };

    await eventually(async () => expect((await call('dc2', afterFailover.path, key)).status).toBe(200), 60_000, 250);
    expect((await call('dc2', demo.path, key)).status).toBe(200);
    expect((await call('dc2', demo.path, demo.key)).status).toBe(200); // a key from before the failover
    passed++;
  }, 150_000);

  it('brings dc1 back as a standby of dc2: it refuses writes naming dc2, and both DCs agree', async () => {
    log('test: restarting dc1');
    await stack.restartDc('dc1');
    log('test: dc1 restarted');
    const adminAt1 = await cp.dc1.login(admin.username, admin.password);

    // dc1 imports dc2's promotion (a read, so that no write races it) ...
    await eventually(
      async () => {
        const { regions } = await cp.dc1.ok(`{ regions { dc role epoch } }`, {}, adminAt1);
        expect(regions).toEqual(
          expect.arrayContaining([
            { dc: 'dc1', role: 'STANDBY', epoch: 2 },
            { dc: 'dc2', role: 'PRIMARY', epoch: 2 },
          ]),
        );
      },
      90_000,
      500,
    );
    log('test: dc1 sees dc2 as the primary in epoch 2');
    // ... and from then on refuses writes, naming the primary.
    const refused = await cp.dc1.gql(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Refused', version: 'v1', context: `/refused-${run}`, upstreamUrls: [upstream] } },
      adminAt1,
    );
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc2' });

    const agreed = await eventually(
      async () => {
        const status = await apimctl(['status']);
        expect(status).toMatchObject({ code: 0 });
        return status;
      },
      60_000,
      1000,
    );
    log('test: apimctl status agrees');
    expect(agreed.stdout).toMatch(/^dc1\s+STANDBY\s+2\s/m);
    expect(agreed.stdout).toMatch(/^dc2\s+PRIMARY\s+2\s/m);

    // What dc2 wrote while dc1 was away reaches dc1's gateway too.
    await eventually(async () => expect((await call('dc1', afterFailover.path, afterFailover.key)).status).toBe(200), 60_000, 250);
    passed++;
  }, 180_000);

  /** A request through a DC's gateway, its body parsed when it is JSON. */
  async function call(dc: Dc, path: string, key?: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${gateway[dc]}${path}`, { headers: key ? { apikey: key } : {}, signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) };
    } catch {
      return { status: response.status, body: text };
    }
  }

  /** The compiled apimctl as an SRE runs it, against both control planes, as the stack's admin. */
  function apimctl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const endpoints = `dc1=${cp.dc1.url},dc2=${cp.dc2.url}`;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot(), 'dist', 'apps', 'apimctl', 'src', 'main.js'), '--endpoints', endpoints, '--timeout', '3000', ...args],
        { env: { PATH: process.env.PATH, APIMCTL_USER: admin.username, APIMCTL_PASSWORD: admin.password }, timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
  }
});

/** Ports of a stack of the test's own: free ones, distinct, and Kafka's picked by its launcher. */
async function freeLayout(): Promise<DcLayout[]> {
  const ports = new Set<number>();
  while (ports.size < 6) ports.add(await freePort());
  const [cp1, gw1, rep1, cp2, gw2, rep2] = [...ports];
  const database = (dc: string) => `apim_e2e_${process.pid}_${dc}`;
  return [
    {
      dc: 'dc1',
      kafkaPort: 0,
      controllerPort: 0,
      controlPlanePort: cp1,
      gatewayPort: gw1,
      replicatorPort: rep1,
      database: database('dc1'),
    },
    {
      dc: 'dc2',
      kafkaPort: 0,
      controllerPort: 0,
      controlPlanePort: cp2,
      gatewayPort: gw2,
      replicatorPort: rep2,
      database: database('dc2'),
    },
  ];
}

/**
 * Signs in at a DC that got the user by replication. Not a polling loop: the
 * control plane refuses even the right password after 5 failed logins in
 * 300 s, so at most 4 attempts, 2 s apart, once the caller has seen the
 * user's events arrive by other means.
 */
async function loginAfterReplication(client: GraphQlClient, username: string, password: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.login(username, password);
    } catch (error) {
      if (attempt >= 4 || !(error instanceof GqlRefused && error.code === 'UNAUTHENTICATED')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** The end of the stack's progress log and of every app log, for a failed run's output. */
function logTails(runDir: string, bytes = 2500): string {
  const logs = join(runDir, 'logs');
  const files = [join(runDir, 'stack.log'), ...(existsSync(logs) ? readdirSync(logs).map((f) => join(logs, f)) : [])];
  return files
    .filter((file) => existsSync(file))
    .map((file) => `--- ${file}\n${readFileSync(file, 'utf8').slice(-bytes)}`)
    .join('\n');
}
