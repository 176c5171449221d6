import { randomBytes } from 'node:crypto';
import { eventually, startUpstream } from '../support/gateway';
import { ADMIN, apimctl, TwoDcWorld } from '../support/two-dc';

/**
 * Two DCs in active-passive mode, each with its own Kafka cluster, database,
 * control plane and replicator, talking only through the replicators: what
 * dc1 (the primary) writes reaches dc2's read models and dc2's gateway.
 */
describe('two DCs, active-passive, through the replicators', () => {
  const world = new TwoDcWorld('apdc');
  const run = randomBytes(3).toString('hex');
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let passed = 0;

  beforeAll(async () => {
    upstream = await startUpstream();
    await world.start();
  }, 240_000);

  afterAll(async () => {
    if (passed < 3) console.error(world.logTails());
    await world.stop();
    await upstream?.close();
  }, 120_000);

  it('a write in dc1 becomes visible in dc2 read models and at dc2 gateway, and dc2 reports its lag behind dc1', async () => {
    const { dc1, dc2 } = world.cps;
    const gateway = await world.startGateway('dc2', 'gw');
    const admin = await dc1.login(ADMIN.username, ADMIN.password);
    const context = `/orders-${run}`;
    const api = (
      await dc1.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
        { input: { name: 'Orders', version: 'v1', context, upstreamUrls: [upstream.url] } },
        admin,
      )
    ).createApi;
    expect(api.homeDc).toBe('dc1');
    await dc1.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, admin);
    const developer = await dc1.signUp(`dev-${run}`, 'a developer password');
    const app = (await dc1.ok(`mutation { createApplication(input: { name: "Shop" }) { id } }`, {}, developer)).createApplication;
    await dc1.ok(
      `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
      {
        app: app.id,
        api: api.id,
      },
      developer,
    );
    const { key } = (await dc1.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: app.id }, developer))
      .generateApiKey;

    // dc2's read models: the admin (a user is events too) logs in at dc2 and sees the published API.
    const adminAtDc2 = await eventually(() => dc2.login(ADMIN.username, ADMIN.password), 60_000, 250);
    await eventually(
      async () => {
        const { apis } = await dc2.ok(`{ apis { id state context homeDc } }`, {}, adminAtDc2);
        expect(apis).toContainEqual({ id: api.id, state: 'PUBLISHED', context, homeDc: 'dc1' });
      },
      60_000,
      250,
    );

    // dc2's gateway routes it with the key generated in dc1.
    await eventually(
      async () => {
        const response = await fetch(`${gateway.url}${context}/v1/items`, { headers: { apikey: key } });
        expect(response.status).toBe(200);
      },
      60_000,
      250,
    );

    // dc2 knows how far it trails dc1, from the replicator's heartbeats (records and ms, 0 once caught up).
    const regions = await eventually(
      async () => {
        const { regions } = await dc2.ok(`{ regions { dc role epoch local replication { state records ms lastSeen } } }`, {}, adminAtDc2);
        expect(regions.find((r: { dc: string }) => r.dc === 'dc1').replication).toMatchObject({ state: 'mirroring', records: 0, ms: 0 });
        return regions;
      },
      30_000,
      250,
    );
    expect(regions).toContainEqual(expect.objectContaining({ dc: 'dc1', role: 'PRIMARY', epoch: 1, local: false }));
    expect(regions).toContainEqual({ dc: 'dc2', role: 'STANDBY', epoch: 1, local: true, replication: null });
    passed++;
  }, 180_000);

  it('the standby refuses writes with READ_ONLY_REGION naming the primary, and changes nothing', async () => {
    const { dc2 } = world.cps;
    const admin = await dc2.login(ADMIN.username, ADMIN.password);
    const before = (await dc2.ok(`{ apis { id } }`, {}, admin)).apis.length;
    const refused = await dc2.gql(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Nope', version: 'v1', context: `/nope-${run}`, upstreamUrls: [upstream.url] } },
      admin,
    );
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc1' });
    expect((await dc2.ok(`{ apis { id } }`, {}, admin)).apis.length).toBe(before);
    passed++;
  }, 60_000);

  it('fails over to dc2 with dc1 down (apimctl), dc2 takes writes, and dc1 back demotes itself; both agree', async () => {
    const { dc2 } = world.cps;
    const status = await apimctl(world, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^dc1\s+PRIMARY\s+1\s/m);
    expect(status.stdout).toMatch(/^dc2\s+STANDBY\s+1\s+dc1: 0 rec \/ 0 ms/m);

    // dc1 is lost: control plane, replicator and Kafka cluster.
    await Promise.all([world.cps.dc1.process.stop(10_000), world.replicators.dc1.process.stop(10_000)]);
    await world.clusters.dc1.stop();
    const down = await apimctl(world, ['status']);
    expect(down.code).toBe(3);
    expect(down.stdout).toMatch(/^dc1\s+UNREACHABLE/m);

    const failover = await apimctl(world, ['failover', '--to', 'dc2']);
    expect(failover).toMatchObject({ code: 0 });
    expect(failover.stdout).toContain('dc2 is now primary in epoch 2');
    const admin = await dc2.login(ADMIN.username, ADMIN.password);
    const created = await dc2.ok(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
      { input: { name: 'After failover', version: 'v1', context: `/after-${run}`, upstreamUrls: [upstream.url] } },
      admin,
    );
    expect(created.createApi.homeDc).toBe('dc2');

    // dc1 returns: it imports region.promoted{dc2, 2} and refuses writes, naming dc2.
    await world.clusters.dc1.start();
    await world.startControlPlane('dc1');
    await world.startReplicator('dc1');
    const dc1 = world.cps.dc1;
    const adminAtDc1 = await dc1.login(ADMIN.username, ADMIN.password);
    await eventually(
      async () => {
        const refused = await dc1.gql(
          `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
          { input: { name: 'Old primary', version: 'v1', context: `/old-${run}`, upstreamUrls: [upstream.url] } },
          adminAtDc1,
        );
        expect(refused.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc2' });
      },
      60_000,
      250,
    );
    await eventually(
      async () => {
        const { apis } = await dc1.ok(`{ apis { id } }`, {}, adminAtDc1);
        expect(apis.map((a: { id: string }) => a.id)).toContain(created.createApi.id);
      },
      60_000,
      250,
    );
    const agreed = await eventually(
      async () => {
        const result = await apimctl(world, ['status']);
        expect(result.code).toBe(0);
        return result;
      },
      30_000,
      500,
    );
    expect(agreed.stdout).toMatch(/^dc1\s+STANDBY\s+2\s/m);
    expect(agreed.stdout).toMatch(/^dc2\s+PRIMARY\s+2\s/m);
    passed++;
  }, 240_000);
});
