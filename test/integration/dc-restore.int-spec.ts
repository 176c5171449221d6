import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIRROR_HEADERS, TOPICS } from '@apim/events';
import { readAllRecords, ReadRecord } from '../support/events';
import { ControlPlane } from '../support/control-plane';
import { TestDatabase } from '../support/databases';
import { eventually } from '../support/gateway';
import { createTopics, testKafka } from '../support/kafka';
import { ADMIN, apimctl, Dc, twoDcSpec, TwoDcWorld } from '../support/two-dc';

/** A partition's records as their source wrote them: offset, key and value (a mirror's offset is its header's). */
const asWritten = (records: ReadRecord[][], mirrored: boolean) =>
  records.map((partition) =>
    partition.map((record) => ({
      offset: mirrored ? record.headers[MIRROR_HEADERS.offset] : record.offset,
      key: record.key,
      value: record.value,
    })),
  );

/** Creates and publishes an API; returns its id. */
async function publishApi(cp: ControlPlane, token: string, api: { name: string; context: string; upstreamUrl: string }): Promise<string> {
  const { id } = (
    await cp.ok(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: api.name, version: 'v1', context: api.context, upstreamUrls: [api.upstreamUrl] } },
      token,
    )
  ).createApi;
  await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id }, token);
  return id;
}

/** dc2 mirrored dc1's topic from its checkpoints: every record of it once, at its offset, and nothing else. */
async function expectMirroredOnce(world: TwoDcWorld): Promise<void> {
  const dc1Kafka = testKafka([world.brokers('dc1')]);
  const dc2Kafka = testKafka([world.brokers('dc2')]);
  await eventually(
    async () => {
      const [own, mirror] = await Promise.all([readAllRecords(dc1Kafka, TOPICS.events), readAllRecords(dc2Kafka, `dc1.${TOPICS.events}`)]);
      expect(asWritten(mirror, true)).toEqual(asWritten(own, false));
    },
    60_000,
    1000,
  );
}

/** Waits until dc2's `regions` shows its replication from dc1 in `state`. */
async function dc2ReplicationState(world: TwoDcWorld, state: string): Promise<void> {
  const admin = await world.cps.dc2.login(ADMIN.username, ADMIN.password);
  await eventually(
    async () => {
      const { regions } = await world.cps.dc2.ok(`{ regions { dc replication { state } } }`, {}, admin);
      expect(regions.find((r: { dc: string }) => r.dc === 'dc1').replication.state).toBe(state);
    },
    60_000,
    250,
  );
}

/**
 * dc1 is lost for good (its Kafka cluster and its database), dc2 takes over,
 * and dc1 is rebuilt under its own id from what dc2 holds: `dc:restore` puts
 * dc1's own topic back, record for record at its offsets, and loads the whole
 * history into its new store; then dc1's apps start as a standby of dc2's
 * epoch, serve what the old dc1 wrote, and take writes again after a
 * switchover, which dc2 mirrors from where it stopped.
 */
describe('a lost DC rebuilt under its own id (dc:restore)', () => {
  const { world, upstream, passed } = twoDcSpec('rsdc', 3);
  const run = randomBytes(3).toString('hex');
  let key = '';

  const createPublishedApi = (dc: Dc, token: string, name: string, context: string) =>
    publishApi(world.cps[dc], token, { name, context, upstreamUrl: upstream().url });

  it('dc1 is lost with its Kafka cluster and database; dc2 takes over', async () => {
    const { dc1 } = world.cps;
    const gateway = await world.startGateway('dc1', 'gw1');
    const admin = await dc1.login(ADMIN.username, ADMIN.password);
    const api = await createPublishedApi('dc1', admin, 'Orders', `/orders-${run}`);
    const developer = await dc1.signUp(`dev-${run}`, 'a developer password');
    const app = (await dc1.ok(`mutation { createApplication(input: { name: "Shop" }) { id } }`, {}, developer)).createApplication;
    await dc1.ok(
      `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
      { app: app.id, api },
      developer,
    );
    key = (await dc1.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: app.id }, developer)).generateApiKey
      .key;
    await eventually(async () =>
      expect((await fetch(`${gateway.url}/orders-${run}/v1/items`, { headers: { apikey: key } })).status).toBe(200),
    );
    await world.eventuallyEqualEvents();

    // What dc1 writes once dc2 no longer pulls from it is lost with dc1.
    await world.replicators.dc2.process.stop(10_000);
    await createPublishedApi('dc1', admin, 'Lost', `/lost-${run}`);
    await eventually(async () => expect((await fetch(`${gateway.url}/lost-${run}/v1/items`)).status).toBe(401));

    await world.destroy('dc1');
    await world.startReplicator('dc2');
    const failover = await apimctl(world, ['failover', '--to', 'dc2']);
    expect(failover).toMatchObject({ code: 0 });
    expect(failover.stdout).toContain('dc2 is now primary in epoch 2');
    const adminAtDc2 = await world.cps.dc2.login(ADMIN.username, ADMIN.password);
    await createPublishedApi('dc2', adminAtDc2, 'After', `/after-${run}`);
    passed();
  }, 300_000);

  it('restores dc1 from dc2, resuming an interrupted run the control plane would not start on: its topic record for record at the same offsets, its store with the whole history; a second run is refused', async () => {
    await world.rebuild('dc1');
    const dc1Kafka = testKafka([world.brokers('dc1')]);
    const dc2Kafka = testKafka([world.brokers('dc2')]);
    // dc2's replicator finds dc1's events topic shorter than its checkpoints, and waits instead of mirroring it.
    await createTopics(dc1Kafka, [{ topic: TOPICS.events, numPartitions: 6 }]);
    await dc2ReplicationState(world, 'source-behind');

    // Refused, and nothing written: a peer that is not configured, and a DC the peer never mirrored.
    const unknownPeer = await world.restore('dc1', ['--from', 'dc3']);
    expect(unknownPeer).toMatchObject({ code: 2, stdout: '' });
    expect(unknownPeer.stderr).toContain('dc:restore: dc3 is not a peer with brokers in PEER_KAFKA_BROKERS (dc2)');
    const stranger = await TestDatabase.create('rsdc_dc3');
    try {
      const neverMirrored = await world.restore('dc1', [], { DC_ID: 'dc3', DATABASE_URL: stranger.url });
      expect(neverMirrored).toMatchObject({ code: 4, stdout: '' });
      expect(neverMirrored.stderr).toContain(
        "dc:restore: refused: dc2's cluster has no topic dc3.apim.events: dc2 never mirrored dc3, so it holds nothing of dc3 to restore",
      );
      const db = await stranger.migrated(1);
      expect(await db.query(`SELECT name FROM checkpoints`)).toEqual([]);
      await db.destroy();
    } finally {
      await stranger.drop();
    }

    // A restore that was interrupted: the first record of each partition copied, the marker set. The control plane
    // refuses to start until a restore has finished; the next run goes on from where the topic ends.
    const firsts = (await readAllRecords(dc2Kafka, `dc1.${TOPICS.events}`)).flatMap((partition) => partition.slice(0, 1));
    const producer = dc1Kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: TOPICS.events,
      acks: -1,
      messages: firsts.map(({ partition, key, value, headers }) => ({
        partition,
        key,
        value,
        headers: Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('apim.mirror.'))),
      })),
    });
    await producer.disconnect();
    // Records in dc1's topic with no restore under way (its apps were started on the new cluster, say): refused,
    // and nothing marked.
    const strayRecords = await world.restore('dc1');
    expect(strayRecords).toMatchObject({ code: 4, stdout: '' });
    expect(strayRecords.stderr).toContain(
      `dc:restore: refused: apim.events in dc1's cluster holds ${firsts.length} records already and no restore of dc1 was under way`,
    );
    const db = await world.dbs.dc1.migrated(1);
    expect(await db.query(`SELECT name FROM checkpoints`)).toEqual([]);
    await db.query(`INSERT INTO checkpoints (name, transaction_id, position) VALUES ('dc-restore', '0', 0)`);
    await db.destroy();
    const early = new ControlPlane(world.dbs.dc1, join(world.logDir, 'cp-dc1-early.log'), world.controlPlaneEnv('dc1'));
    await expect(early.start().finally(() => early.process.stop(10_000))).rejects.toThrow('the control plane exited (code 1)');
    expect(readFileSync(early.logFile, 'utf8')).toContain(
      'a restore of dc1 (npm run dc:restore) began and has not finished: run it again to completion before starting the control plane',
    );

    const restored = await world.restore('dc1');
    expect(restored).toMatchObject({ code: 0 });
    expect(restored.stdout).toContain('dc1 restored from dc2:');
    expect(restored.stdout).toContain('dc1 starts as STANDBY in epoch 2');
    expect(restored.stderr).toContain('dc:restore: resuming an unfinished restore of dc1 from dc2');
    const [, records, copied] = /of dc2: (\d+) records in dc1's apim\.events at their offsets \((\d+) copied now\)/.exec(restored.stderr)!;
    expect(Number(copied)).toBe(Number(records) - firsts.length);

    const [own, mirror] = await Promise.all([readAllRecords(dc1Kafka, TOPICS.events), readAllRecords(dc2Kafka, `dc1.${TOPICS.events}`)]);
    expect(own.flat().length).toBeGreaterThan(0);
    expect(asWritten(own, false)).toEqual(asWritten(mirror, true));
    expect(own.flat().some((record) => record.value?.includes(`/lost-${run}`))).toBe(false);
    // Its store holds every event dc2 holds (dc2's own and dc1's), and nothing else.
    await world.eventuallyEqualEvents();

    const again = await world.restore('dc1');
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(
      /^dc:restore: refused: the event store of dc1 holds \d+ events: a restore goes into a new, empty database only/m,
    );
    passed();
  }, 300_000);

  it('the restored dc1 starts as a standby, serves the old and the new, and after a switchover dc2 mirrors its writes from where it stopped', async () => {
    await world.startReplicator('dc1');
    const dc1 = await world.startControlPlane('dc1');
    const gateway = await world.startGateway('dc1', 'gw1b');
    // The admin of the old dc1's history signs in (with a new signing key: the old private keys were lost).
    const admin = await dc1.login(ADMIN.username, ADMIN.password);
    await eventually(
      async () => {
        const { regions } = await dc1.ok(`{ regions { dc role epoch } }`, {}, admin);
        expect(regions).toEqual(
          expect.arrayContaining([
            { dc: 'dc1', role: 'STANDBY', epoch: 2 },
            { dc: 'dc2', role: 'PRIMARY', epoch: 2 },
          ]),
        );
        const { apis } = await dc1.ok(`{ apis { context state } }`, {}, admin);
        expect(apis).toEqual(
          expect.arrayContaining([
            { context: `/orders-${run}`, state: 'PUBLISHED' },
            { context: `/after-${run}`, state: 'PUBLISHED' },
          ]),
        );
        expect(apis.map((a: { context: string }) => a.context)).not.toContain(`/lost-${run}`);
      },
      60_000,
      500,
    );
    const refused = await dc1.gql(`mutation { createApplication(input: { name: "Nope" }) { id } }`, {}, admin);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'READ_ONLY_REGION', primary: 'dc2' });

    // Its gateway serves what the old dc1 wrote (its restored topic), the key included, and what dc2 wrote since.
    await eventually(
      async () => {
        expect((await fetch(`${gateway.url}/orders-${run}/v1/items`, { headers: { apikey: key } })).status).toBe(200);
        expect((await fetch(`${gateway.url}/after-${run}/v1/items`)).status).toBe(401);
        expect((await fetch(`${gateway.url}/lost-${run}/v1/items`)).status).toBe(404);
      },
      60_000,
      250,
    );

    const switchover = await apimctl(world, ['switchover', '--to', 'dc1', '--wait', '120']);
    expect(switchover).toMatchObject({ code: 0 });
    expect(switchover.stdout).toContain('dc1 is now primary in epoch 3; nothing was lost');
    const adminNow = await dc1.login(ADMIN.username, ADMIN.password);
    await createPublishedApi('dc1', adminNow, 'Back', `/back-${run}`);
    const adminAtDc2 = await world.cps.dc2.login(ADMIN.username, ADMIN.password);
    await eventually(async () => expect(await world.cps.dc2.apiFields(adminAtDc2, 'context')).toContain(`/back-${run}`), 60_000, 250);
    await world.eventuallyEqualEvents();
    await expectMirroredOnce(world);
    passed();
  }, 300_000);
});

/**
 * The same in active-active mode, where no failover comes first: dc1 is lost
 * while dc2 goes on taking its own writes, then rebuilt; it takes writes again
 * at once for the aggregates it homes, and both DCs converge.
 */
describe('a lost DC rebuilt under its own id, active-active', () => {
  const { world, upstream, passed } = twoDcSpec('rsaa', 2, { REPLICATION_MODE: 'active-active' });
  const run = randomBytes(3).toString('hex');

  it('dc1, lost and restored from dc2, takes writes for what it homes again, and both DCs hold the same events', async () => {
    const homedInDc1 = await publishApi(world.cps.dc1, await world.cps.dc1.login(ADMIN.username, ADMIN.password), {
      name: 'Homed in dc1',
      context: `/homed1-${run}`,
      upstreamUrl: upstream().url,
    });
    const adminAtDc2 = await world.loginWhenReplicated('dc2', ADMIN.username, ADMIN.password);
    await publishApi(world.cps.dc2, adminAtDc2, { name: 'Homed in dc2', context: `/homed2-${run}`, upstreamUrl: upstream().url });
    await world.eventuallyEqualEvents();

    await world.destroy('dc1');
    await publishApi(world.cps.dc2, adminAtDc2, { name: 'While dc1 was away', context: `/away-${run}`, upstreamUrl: upstream().url });
    await world.rebuild('dc1');
    const restored = await world.restore('dc1');
    expect(restored).toMatchObject({ code: 0 });
    expect(restored.stdout).toContain('dc1 starts as writable (active-active)');
    await world.startReplicator('dc1');
    const dc1 = await world.startControlPlane('dc1');
    const admin = await dc1.login(ADMIN.username, ADMIN.password);
    await dc1.ok(
      `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
      { id: homedInDc1, input: { name: 'Renamed in the rebuilt dc1' } },
      admin,
    );
    await eventually(
      async () => {
        expect(await world.cps.dc2.apiFields(adminAtDc2, 'name')).toContain('Renamed in the rebuilt dc1');
        expect(await dc1.apiFields(admin, 'name')).toEqual(expect.arrayContaining(['Homed in dc2', 'While dc1 was away']));
      },
      60_000,
      250,
    );
    await world.eventuallyEqualEvents();
    await expectMirroredOnce(world);
    passed();
  }, 300_000);

  it('dc1 rebuilt again but not restored: dc2 mirrors nothing of it (source-replaced), even once its topic is longer than the checkpoints', async () => {
    const dc2Kafka = testKafka([world.brokers('dc2')]);
    const mirrored = await readAllRecords(dc2Kafka, `dc1.${TOPICS.events}`);
    await world.destroy('dc1');
    await world.rebuild('dc1');
    // What a new dc1's apps would write without a restore: more records in each partition than dc2 ever mirrored.
    const dc1Kafka = testKafka([world.brokers('dc1')]);
    await createTopics(dc1Kafka, [{ topic: TOPICS.events, numPartitions: mirrored.length }]);
    const producer = dc1Kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const count = Math.max(...mirrored.map((partition) => partition.length)) + 1;
    await producer.send({
      topic: TOPICS.events,
      acks: -1,
      messages: mirrored.flatMap((_, partition) =>
        Array.from({ length: count }, (__, i) => ({ partition, key: `stray-${i}`, value: 'stray' })),
      ),
    });
    await producer.disconnect();

    await dc2ReplicationState(world, 'source-replaced');
    expect(asWritten(await readAllRecords(dc2Kafka, `dc1.${TOPICS.events}`), true)).toEqual(asWritten(mirrored, true));
    passed();
  }, 300_000);
});
