import { DataSource } from 'typeorm';
import { JsonLogger, StreamType } from '@apim/events';
import { PostgresEventStore } from '../../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { ProjectionRunner } from '../../apps/control-plane/src/infrastructure/projections/projection-runner';
import { ApisProjection } from '../../apps/control-plane/src/publisher/projections/apis.projection';
import { DevportalProjection } from '../../apps/control-plane/src/devportal/projections/devportal.projection';
import { CredentialsProjection } from '../../apps/control-plane/src/keymanager/projections/credentials.projection';
import { TestDatabase } from '../support/databases';
import { CONTEXT } from '../support/events';

const quiet = new JsonLogger({ test: 'projections' }, 'error');

const created = (context: string) => ({
  type: 'api.created',
  schemaVersion: 2,
  payload: {
    name: 'Payments',
    version: 'v1',
    context,
    upstreamUrls: ['http://127.0.0.1:9999'],
    upstreamTimeoutMs: 5000,
    operations: [{ method: '*', path: '/*', auth: 'apikey' }],
    tiers: ['Gold'],
    visibility: 'public',
  },
});

describe('the projection runner', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    db = await TestDatabase.create('projections');
    dataSource = await db.migrated();
    store = new PostgresEventStore(dataSource);
    runner = new ProjectionRunner(dataSource, [new ApisProjection()], quiet, { batchSize: 7 });
    await store.append('api-a', 'api', 0, [created('/payments'), { type: 'api.published', schemaVersion: 1, payload: {} }], CONTEXT);
    await store.append('api-b', 'api', 0, [created('/orders')], { ...CONTEXT, originDc: 'dc2' });
    await store.append(
      'api-b',
      'api',
      1,
      [{ type: 'api.updated', schemaVersion: 1, payload: { name: 'Orders', upstreamUrls: ['http://a:1', 'http://b:2'] } }],
      CONTEXT,
    );
    // A record of the old schema, as an older release wrote it: upcast on read.
    await store.append(
      'api-c',
      'api',
      0,
      [
        {
          type: 'api.created',
          schemaVersion: 1,
          payload: { name: 'Legacy', version: 'v0', context: '/legacy', upstreamUrl: 'http://old:80', operations: [], tiers: ['Bronze'] },
        },
      ],
      CONTEXT,
    );
    for (let i = 0; i < 20; i++) await store.append(`api-bulk-${i}`, 'api', 0, [created(`/bulk${i}`)], CONTEXT);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  const rows = () =>
    dataSource.query(
      `SELECT id, name, context, state, upstream_urls, upstream_timeout_ms, home_dc, stream_version FROM rm_apis ORDER BY id`,
    );

  it('builds the read model from the store, with upcast old events, and reports zero lag once caught up', async () => {
    await runner.catchUp();
    const byId = Object.fromEntries((await rows()).map((r: { id: string }) => [r.id, r]));
    expect(byId['api-a']).toMatchObject({ name: 'Payments', state: 'PUBLISHED', home_dc: 'dc1', stream_version: 2 });
    expect(byId['api-b']).toMatchObject({
      name: 'Orders',
      state: 'CREATED',
      upstream_urls: ['http://a:1', 'http://b:2'],
      home_dc: 'dc2',
      stream_version: 2,
    });
    expect(byId['api-c']).toMatchObject({ name: 'Legacy', upstream_urls: ['http://old:80'], upstream_timeout_ms: 30000 });
    expect(Object.keys(byId)).toHaveLength(23);
    expect(await runner.lag()).toEqual({ apis: 0 });
  });

  it('changes nothing when run again over the same events', async () => {
    const before = await rows();
    expect(await runner.runOnce()).toBe(0);
    await runner.catchUp();
    expect(await rows()).toEqual(before);
  });

  it('rebuilds a projection from zero to the same rows', async () => {
    const before = await rows();
    await runner.reset('apis');
    expect(await rows()).toEqual([]);
    expect((await runner.lag()).apis).toBeGreaterThan(20);
    await runner.catchUp();
    expect(await rows()).toEqual(before);
  });

  it('refuses to reset an unknown projection, naming the known ones', async () => {
    await expect(runner.reset('nope')).rejects.toThrow('unknown projection "nope"; known: apis');
  });
});

describe('a deleted application in the read models', () => {
  const HASH = (c: string) => c.repeat(64);
  let db: TestDatabase;
  let dataSource: DataSource;
  let runner: ProjectionRunner;

  beforeAll(async () => {
    db = await TestDatabase.create('projections_deleted_app');
    dataSource = await db.migrated();
    const store = new PostgresEventStore(dataSource);
    runner = new ProjectionRunner(dataSource, [new DevportalProjection(), new CredentialsProjection()], quiet);
    const append = (streamId: string, streamType: StreamType, version: number, type: string, payload: object) =>
      store.append(streamId, streamType, version, [{ type, schemaVersion: 1, payload }], CONTEXT);
    await append('app-gone', 'application', 0, 'application.created', { ownerId: 'user:dev', name: 'Gone', policy: 'Unlimited' });
    await append('app-kept', 'application', 0, 'application.created', { ownerId: 'user:dev', name: 'Kept', policy: 'Unlimited' });
    for (const app of ['app-gone', 'app-kept']) {
      await append(`sub:${app}:api-1`, 'subscription', 0, 'subscription.created', { applicationId: app, apiId: 'api-1', tier: 'Gold' });
      await append(`key-${app}`, 'apikey', 0, 'apikey.generated', {
        applicationId: app,
        keyHash: HASH('a'),
        prefix: 'ak_1',
        expiresAt: null,
      });
      await append(`client-${app}`, 'oauth-client', 0, 'oauth-client.registered', { applicationId: app, secretHash: HASH('b') });
    }
    await runner.catchUp();
    await append('app-gone', 'application', 1, 'application.deleted', {});
    // What another DC wrote for it at the same moment, imported after the deletion.
    await append('sub:app-gone:api-2', 'subscription', 0, 'subscription.created', {
      applicationId: 'app-gone',
      apiId: 'api-2',
      tier: 'Gold',
    });
    await append('key-late', 'apikey', 0, 'apikey.generated', {
      applicationId: 'app-gone',
      keyHash: HASH('c'),
      prefix: 'ak_2',
      expiresAt: null,
    });
    await append('client-late', 'oauth-client', 0, 'oauth-client.registered', { applicationId: 'app-gone', secretHash: HASH('d') });
    await runner.catchUp();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  const rows = async () => ({
    applications: await dataSource.query(`SELECT id, deleted_at IS NOT NULL AS deleted FROM rm_applications ORDER BY id`),
    subscriptions: await dataSource.query(`SELECT id, status FROM rm_subscriptions ORDER BY id`),
    keys: await dataSource.query(`SELECT id, status FROM rm_api_keys ORDER BY id`),
    clients: await dataSource.query(`SELECT id, status FROM rm_oauth_clients ORDER BY id`),
  });

  it('marks the application deleted, ends its subscriptions, revokes its keys and clients, also those that arrive later', async () => {
    expect(await rows()).toEqual({
      applications: [
        { id: 'app-gone', deleted: true },
        { id: 'app-kept', deleted: false },
      ],
      subscriptions: [
        { id: 'sub:app-gone:api-1', status: 'REMOVED' },
        { id: 'sub:app-gone:api-2', status: 'REMOVED' },
        { id: 'sub:app-kept:api-1', status: 'ACTIVE' },
      ],
      keys: [
        { id: 'key-app-gone', status: 'REVOKED' },
        { id: 'key-app-kept', status: 'ACTIVE' },
        { id: 'key-late', status: 'REVOKED' },
      ],
      clients: [
        { id: 'client-app-gone', status: 'REVOKED' },
        { id: 'client-app-kept', status: 'ACTIVE' },
        { id: 'client-late', status: 'REVOKED' },
      ],
    });
  });

  it('rebuilds the same rows from zero', async () => {
    const before = await rows();
    await runner.reset('devportal');
    await runner.reset('credentials');
    await runner.catchUp();
    expect(await rows()).toEqual(before);
  });
});
