import { DataSource } from 'typeorm';
import { JsonLogger } from '@apim/events';
import { PostgresEventStore } from '../../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { ProjectionRunner } from '../../apps/control-plane/src/infrastructure/projections/projection-runner';
import { ApisProjection } from '../../apps/control-plane/src/publisher/projections/apis.projection';
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
