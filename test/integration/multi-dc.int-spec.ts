import { randomBytes } from 'node:crypto';
import { eventually } from '../support/gateway';
import { ADMIN, apimctl, Dc, twoDcSpec, TwoDcWorld } from '../support/two-dc';

/**
 * Two DCs in active-passive mode, each with its own Kafka cluster, database,
 * control plane and replicator, talking only through the replicators: what
 * dc1 (the primary) writes reaches dc2's read models and dc2's gateway.
 */
describe('two DCs, active-passive, through the replicators', () => {
  const { world, upstream, passed } = twoDcSpec('apdc', 4);
  const run = randomBytes(3).toString('hex');
  /** Divergent events of the failover, which the switchover must not add to. */
  let divergentCount = -1;

  it('a write in dc1 becomes visible in dc2 read models and at dc2 gateway, and dc2 reports its lag behind dc1', async () => {
    const { dc1, dc2 } = world.cps;
    const gateway = await world.startGateway('dc2', 'gw');
    const admin = await dc1.login(ADMIN.username, ADMIN.password);
    const context = `/orders-${run}`;
    const api = (
      await dc1.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
        { input: { name: 'Orders', version: 'v1', context, upstreamUrls: [upstream().url] } },
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
    const adminAtDc2 = await world.loginWhenReplicated('dc2', ADMIN.username, ADMIN.password);
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

    // dc2 knows how far it trails dc1, from the replicator's heartbeats (records and ms, 0 once caught up) and its
    // importer's reports (records of the mirror not read yet), and the epoch once it has imported dc1's region events
    // (other streams than the API's: they may arrive after it).
    await eventually(
      async () => {
        const { regions } = await dc2.ok(
          `{ regions { dc role epoch local replication { state records ms lastSeen } importer { records lastSeen } } }`,
          {},
          adminAtDc2,
        );
        const dc1 = regions.find((r: { dc: string }) => r.dc === 'dc1');
        expect(dc1.replication).toMatchObject({ state: 'mirroring', records: 0, ms: 0 });
        expect(dc1.importer).toMatchObject({ records: 0 });
        expect(Date.now() - Date.parse(dc1.importer.lastSeen)).toBeLessThan(30_000);
        expect(regions).toContainEqual(expect.objectContaining({ dc: 'dc1', role: 'PRIMARY', epoch: 1, local: false }));
        expect(regions).toContainEqual({ dc: 'dc2', role: 'STANDBY', epoch: 1, local: true, replication: null, importer: null });
      },
      30_000,
      250,
    );
    const lag = await apimctl(world, ['lag']);
    expect(lag.stdout).toMatch(/^dc2\s+dc1\s+mirroring\s+0\s+0\s+\S+\s+0$/m);

    // The SRE's view of the gateways: dc2's, live, ready and caught up; the only one, so one routing table.
    await eventually(
      async () => {
        const cli = await apimctl(world, ['gateways', '--live']);
        expect(cli).toMatchObject({ code: 0, stderr: '' });
        expect(cli.stdout).toMatch(/^dc2\s+apdc-gw\s+\S+\s+LIVE\s+ready\s+0\s+[0-9a-f]{12}\s/m);
        expect(cli.stdout).toMatch(/^1 live gateway\(s\) caught up, all with one routing table$/m);
      },
      30_000,
      500,
    );
    passed();
  }, 180_000);

  it('the standby refuses writes with READ_ONLY_REGION naming the primary, and changes nothing', async () => {
    const { dc2 } = world.cps;
    const admin = await dc2.login(ADMIN.username, ADMIN.password);
    const before = (await dc2.ok(`{ apis { id } }`, {}, admin)).apis.length;
    const refused = await dc2.gql(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Nope', version: 'v1', context: `/nope-${run}`, upstreamUrls: [upstream().url] } },
      admin,
    );
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc1' });
    expect((await dc2.ok(`{ apis { id } }`, {}, admin)).apis.length).toBe(before);
    passed();
  }, 60_000);

  it('fails over to dc2 with dc1 down (apimctl); dc1 back demotes itself and both list, and drop, its divergent events', async () => {
    const { dc1: dc1Before, dc2 } = world.cps;
    const status = await apimctl(world, ['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^dc1\s+PRIMARY\s+1\s/m);
    expect(status.stdout).toMatch(/^dc2\s+STANDBY\s+1\s+dc1: 0 rec \/ 0 ms/m);

    // dc1 and dc2 are cut apart (dc2's replicator stops pulling), and dc1 goes on writing: events dc2 never gets.
    const admin1 = await dc1Before.login(ADMIN.username, ADMIN.password);
    const orders = (await dc1Before.ok(`{ apis { id name context } }`, {}, admin1)).apis.find((a: { context: string }) =>
      a.context.startsWith('/orders-'),
    );
    await world.eventuallyEqualEvents(); // dc2 holds everything dc1 wrote so far
    const gateway1 = await world.startGateway('dc1', 'gw1');
    await world.replicators.dc2.process.stop(10_000);
    const divergentApi = (
      await dc1Before.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        { input: { name: 'Divergent', version: 'v1', context: `/divergent-${run}`, upstreamUrls: [upstream().url] } },
        admin1,
      )
    ).createApi.id;
    await dc1Before.ok(
      `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
      { id: orders.id, input: { name: 'Orders (dc1, lost)' } },
      admin1,
    );
    await dc1Before.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: divergentApi }, admin1);
    const divergentUrl = `${gateway1.url}/divergent-${run}/v1/items`;
    await eventually(async () => expect((await fetch(divergentUrl)).status).toBe(401), 30_000, 250); // routed: it asks for a key
    const dc1Own = await divergentCandidates(world, 'dc1');
    expect(dc1Own.length).toBe(3);

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
      { input: { name: 'After failover', version: 'v1', context: `/after-${run}`, upstreamUrls: [upstream().url] } },
      admin,
    );
    expect(created.createApi.homeDc).toBe('dc2');
    // The same version of Orders that dc1 wrote and dc2 never saw: dc2's (the newer epoch) wins everywhere.
    await dc2.ok(
      `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
      { id: orders.id, input: { name: 'Orders (dc2)' } },
      admin,
    );

    // dc1 returns, and both replicators run again: dc1 imports region.promoted{dc2, 2} and refuses writes, naming dc2.
    await world.clusters.dc1.start();
    await world.startControlPlane('dc1');
    await Promise.all([world.startReplicator('dc1'), world.startReplicator('dc2')]);
    const dc1 = world.cps.dc1;
    const adminAtDc1 = await dc1.login(ADMIN.username, ADMIN.password);
    // Until dc1 has imported the promotion it still takes writes: those are divergent too, and must go the same way.
    const oldPrimaryWrites: string[] = [];
    await eventually(
      async () => {
        const result = await dc1.gql<{ createApi: { id: string } }>(
          `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
          {
            input: {
              name: 'Old primary',
              version: 'v1',
              context: `/old-${run}-${oldPrimaryWrites.length}`,
              upstreamUrls: [upstream().url],
            },
          },
          adminAtDc1,
        );
        if (result.data?.createApi) oldPrimaryWrites.push(result.data.createApi.id);
        expect(result.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc2' });
      },
      60_000,
      250,
    );

    // dc2 refused dc1's two events of epoch 1 that reached it after its promotion; dc1 moved them aside; both list them alike.
    const listed = `{ divergentEvents { eventId streamId version type originDc epoch fencedInEpoch } }`;
    const expected = [
      ...dc1Own.map((e) => expect.objectContaining({ eventId: e.event_id, originDc: 'dc1', epoch: 1, fencedInEpoch: 2 })),
      ...oldPrimaryWrites.map((id) =>
        expect.objectContaining({ streamId: id, type: 'api.created', originDc: 'dc1', epoch: 1, fencedInEpoch: 2 }),
      ),
    ];
    divergentCount = expected.length;
    const atDc2 = await eventually(
      async () => {
        const { divergentEvents } = await dc2.ok(listed, {}, admin);
        expect(divergentEvents).toEqual(expect.arrayContaining(expected));
        expect(divergentEvents).toHaveLength(expected.length);
        return divergentEvents;
      },
      60_000,
      250,
    );
    await eventually(
      async () => {
        const { divergentEvents } = await dc1.ok(listed, {}, adminAtDc1);
        expect(divergentEvents).toEqual(expect.arrayContaining(atDc2));
        expect(divergentEvents).toHaveLength(expected.length);
      },
      60_000,
      250,
    );
    // The SRE's view of the same: one row per event, listed by both DCs, exit 0 since they agree.
    const cli = await apimctl(world, ['divergent']);
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    for (const { eventId } of atDc2 as { eventId: string }[]) expect(cli.stdout).toMatch(new RegExp(`^${eventId}\\s.*\\sdc1,dc2$`, 'm'));
    expect(cli.stdout).toContain(`${expected.length} divergent event(s); asked dc1, dc2`);

    // Same store, row for row, and the same read models: no Divergent API, dc2's name for Orders, dc2's new API.
    await world.eventuallyEqualEvents();
    for (const [cp, token] of [
      [dc1, adminAtDc1],
      [dc2, admin],
    ] as const) {
      await eventually(
        async () => {
          const { apis } = await cp.ok(`{ apis { id name } }`, {}, token);
          const ids = apis.map((a: { id: string }) => a.id);
          expect(ids).toContain(created.createApi.id);
          expect(ids).not.toContain(divergentApi);
          for (const id of oldPrimaryWrites) expect(ids).not.toContain(id);
          expect(apis.find((a: { id: string }) => a.id === orders.id).name).toBe('Orders (dc2)');
        },
        60_000,
        250,
      );
    }
    // dc1's gateway rebuilds its table without them (in the background, serving the old one meanwhile): the
    // divergent API goes, and both DCs' gateways route alike.
    await eventually(async () => expect((await fetch(divergentUrl)).status).toBe(404), 30_000, 250);
    await eventually(
      async () => {
        const [{ gateways: at1 }, { gateways: at2 }] = await Promise.all([
          dc1.ok(`{ gateways(includeGone: false) { id digest } }`, {}, adminAtDc1),
          dc2.ok(`{ gateways(includeGone: false) { id digest } }`, {}, admin),
        ]);
        expect(at1).toHaveLength(1);
        expect(at2).toHaveLength(1);
        expect(at1[0].digest).toBe(at2[0].digest);
      },
      60_000,
      500,
    );

    // The context dc1 lost is free again in dc2, the primary.
    await dc2.ok(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Divergent, again', version: 'v1', context: `/divergent-${run}`, upstreamUrls: [upstream().url] } },
      admin,
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
    passed();
  }, 300_000);

  it('switches over back to dc1 while dc2 takes writes, and loses none (every event counted on both sides)', async () => {
    const { dc1, dc2 } = world.cps;
    const admin = await dc2.login(ADMIN.username, ADMIN.password);
    // A writer that goes on until dc2 refuses it: everything it was told succeeded must end up in dc1.
    const accepted: string[] = [];
    let refusedWith: unknown;
    const writer = (async () => {
      for (let i = 0; ; i++) {
        const result = await dc2.gql<{ createApi: { id: string } }>(
          `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
          { input: { name: `Busy ${i}`, version: 'v1', context: `/busy-${run}-${i}`, upstreamUrls: [upstream().url] } },
          admin,
        );
        if (result.errors) {
          refusedWith = result.errors[0].extensions;
          return;
        }
        accepted.push(result.data!.createApi.id);
      }
    })();
    await eventually(async () => expect(accepted.length).toBeGreaterThan(5), 30_000, 50);

    const switched = await apimctl(world, ['switchover', '--to', 'dc1', '--wait', '50']);
    await writer;
    expect(switched).toMatchObject({ code: 0 });
    expect(switched.stdout).toContain('dc1 is now primary in epoch 3');
    expect(switched.stderr).toContain('dc2 is fenced in epoch 2');
    expect(refusedWith).toMatchObject({ code: 'READ_ONLY_REGION' });

    // Every write dc2 accepted is in dc1 the moment dc1 is primary, and both stores hold the same events.
    const adminAtDc1 = await dc1.login(ADMIN.username, ADMIN.password);
    const inDc1 = new Set((await eventIds(world, 'dc1', `type = 'api.created' AND origin_dc = 'dc2'`)).map((e) => e.stream_id));
    for (const id of accepted) expect(inDc1).toContain(id);
    await world.eventuallyEqualEvents();
    expect(await countEvents(world, 'dc1')).toBe(await countEvents(world, 'dc2'));

    // dc1 takes writes in epoch 3; dc2 refuses them, naming dc1.
    const created = await dc1.ok(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'After switchover', version: 'v1', context: `/switched-${run}`, upstreamUrls: [upstream().url] } },
      adminAtDc1,
    );
    expect(created.createApi.id).toBeDefined();
    const refused = await dc2.gql(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Nope', version: 'v1', context: `/nope2-${run}`, upstreamUrls: [upstream().url] } },
      admin,
    );
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc1' });
    const { divergentEvents } = await dc1.ok(`{ divergentEvents { eventId } }`, {}, adminAtDc1);
    expect(divergentEvents).toHaveLength(divergentCount); // the failover's, and none from the switchover
    passed();
  }, 240_000);
});

async function eventIds(world: TwoDcWorld, dc: Dc, where = 'true'): Promise<{ event_id: string; stream_id: string }[]> {
  return world.query(dc, `SELECT event_id::text, stream_id FROM events WHERE ${where} ORDER BY event_id`);
}

async function countEvents(world: TwoDcWorld, dc: Dc): Promise<number> {
  const [row] = await world.query<{ n: number }>(dc, `SELECT count(*)::int AS n FROM events`);
  return row.n;
}

/** A DC's own events (signing keys aside) that the other DC does not hold. */
async function divergentCandidates(world: TwoDcWorld, dc: Dc): Promise<{ event_id: string }[]> {
  const inPeer = new Set((await eventIds(world, dc === 'dc1' ? 'dc2' : 'dc1')).map((e) => e.event_id));
  return (await eventIds(world, dc, `origin_dc = '${dc}' AND stream_type <> 'signing-key'`)).filter((e) => !inPeer.has(e.event_id));
}
