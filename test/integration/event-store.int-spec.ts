import { DataSource } from 'typeorm';
import { ConcurrencyError, START, StoredEvent } from '../../apps/control-plane/src/infrastructure/event-store/event-store';
import { PostgresEventStore } from '../../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { TestDatabase } from '../support/databases';
import { CONTEXT, policyCreated, uniqueStream } from '../support/events';

describe('the PostgreSQL event store', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await TestDatabase.create('store');
    dataSource = await db.migrated();
    store = new PostgresEventStore(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('appends to a new stream and reads it back in version order with its envelope', async () => {
    const stream = uniqueStream();
    const appended = await store.append(stream, 'policy', 0, [policyCreated(1), policyCreated(2)], { ...CONTEXT, causationId: 'c-1' });
    expect(appended.map((e) => e.version)).toEqual([1, 2]);
    const read = await store.readStream(stream);
    expect(read).toEqual(appended);
    expect(read[0]).toMatchObject({
      streamType: 'policy',
      originDc: 'dc1',
      epoch: 1,
      correlationId: 'test',
      causationId: 'c-1',
      actor: 'system',
      schemaVersion: 1,
    });
    expect(read[0].eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('refuses an append at a stale expected version with a ConcurrencyError, writing nothing', async () => {
    const stream = uniqueStream();
    await store.append(stream, 'policy', 0, [policyCreated()], CONTEXT);
    await expect(store.append(stream, 'policy', 0, [policyCreated()], CONTEXT)).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(store.append(stream, 'policy', 5, [policyCreated()], CONTEXT)).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.streamVersion(stream)).toBe(1);
  });

  it('lets exactly one of two concurrent appends at the same version win', async () => {
    const stream = uniqueStream();
    const results = await Promise.allSettled([
      store.append(stream, 'policy', 0, [policyCreated(1)], CONTEXT),
      store.append(stream, 'policy', 0, [policyCreated(2)], CONTEXT),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(ConcurrencyError);
    expect(await store.streamVersion(stream)).toBe(1);
  });

  it('reads everything in numeric position order, also past positions 9, 99 and 999', async () => {
    const streams = Array.from({ length: 7 }, () => uniqueStream());
    for (let v = 0; v < 160; v += 2)
      for (const stream of streams) await store.append(stream, 'policy', v, [policyCreated(v), policyCreated(v + 1)], CONTEXT);
    const read: StoredEvent[] = [];
    for (let checkpoint = START; ;) {
      const batch = await store.readAll(checkpoint, 333);
      if (batch.length === 0) break;
      read.push(...batch);
      checkpoint = PostgresEventStore.checkpointOf(batch[batch.length - 1]);
    }
    const ours = read.filter((e) => streams.includes(e.streamId));
    expect(ours).toHaveLength(7 * 160);
    for (let i = 1; i < read.length; i++) expect(BigInt(read[i].position)).toBeGreaterThan(BigInt(read[i - 1].position));
    for (const stream of streams) expect(ours.filter((e) => e.streamId === stream).map((e) => e.version)).toEqual(range(1, 160));
  });

  it('imports a foreign event unchanged and idempotently, and tells gaps and conflicts apart', async () => {
    const stream = uniqueStream();
    const [original] = await store.append(stream, 'policy', 0, [policyCreated()], { ...CONTEXT, originDc: 'dc2' });
    const other = await TestDatabase.create('store_import');
    const otherSource = await other.migrated(2);
    const importer = new PostgresEventStore(otherSource);
    try {
      const { position: _p, transactionId: _t, recordedAt: _r, ...envelope } = original;
      expect(await importer.import(envelope)).toBe('appended');
      expect(await importer.import(envelope)).toBe('duplicate');
      expect(await importer.import({ ...envelope, eventId: '01900000-0000-7000-8000-000000000001', version: 3 })).toBe('gap');
      expect(await importer.import({ ...envelope, eventId: '01900000-0000-7000-8000-000000000002' })).toBe('conflict');
      const [copy] = await importer.readStream(stream);
      expect({ ...copy, position: undefined, transactionId: undefined, recordedAt: undefined }).toEqual({
        ...original,
        position: undefined,
        transactionId: undefined,
        recordedAt: undefined,
      });
      expect(await importer.streamVersion(stream)).toBe(1);
    } finally {
      await otherSource.destroy();
      await other.drop();
    }
  });

  it('never lets a tailing reader pass a transaction that commits after a higher position became visible', async () => {
    const early = dataSource.createQueryRunner();
    const late = dataSource.createQueryRunner();
    await early.connect();
    await late.connect();
    try {
      const from = (await store.readAll({ transactionId: '0', position: '0' }, 100000)).at(-1)!;
      const checkpoint = PostgresEventStore.checkpointOf(from);
      await early.startTransaction();
      const [low] = await store.append(uniqueStream(), 'policy', 0, [policyCreated()], CONTEXT, early);
      await late.startTransaction();
      const [high] = await store.append(uniqueStream(), 'policy', 0, [policyCreated()], CONTEXT, late);
      expect(BigInt(low.position)).toBeLessThan(BigInt(high.position));
      await late.commitTransaction();

      // The higher position is committed, the lower one is not: nothing may be returned yet.
      expect(await store.readAll(checkpoint, 100)).toEqual([]);
      await early.commitTransaction();
      const read = await store.readAll(checkpoint, 100);
      expect(read.map((e) => e.eventId)).toEqual([low.eventId, high.eventId]);
    } finally {
      await early.release();
      await late.release();
    }
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
