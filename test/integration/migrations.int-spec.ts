import { TestDatabase } from '../support/databases';
import { createDataSource, runMigrationsLocked } from '../../apps/control-plane/src/infrastructure/database/data-source';
import { MIGRATIONS } from '@apim/migrations';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await TestDatabase.create('migrations');
  });
  afterAll(async () => {
    await db.drop();
  });

  async function tables(): Promise<string[]> {
    const dataSource = await createDataSource(db.url).initialize();
    const rows: { table_name: string }[] = await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    await dataSource.destroy();
    return rows.map((r) => r.table_name);
  }

  it('apply to a fresh database, then revert to an empty schema', async () => {
    const dataSource = await createDataSource(db.url).initialize();
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => new m().name));
    await dataSource.destroy();
    expect(await tables()).toEqual(expect.arrayContaining(['events', 'checkpoints', 'snapshots', 'rm_apis']));

    const again = await createDataSource(db.url).initialize();
    expect(await again.runMigrations()).toEqual([]);
    for (let i = 0; i < MIGRATIONS.length; i++) await again.undoLastMigration();
    await again.destroy();
    expect(await tables()).toEqual(['typeorm_migrations']);
  });

  it('migrate a new database once when two control planes start together', async () => {
    const fresh = await TestDatabase.create('migrations_race');
    try {
      // Pools of one connection: the lock and the migrations must share it.
      const [a, b] = [
        await createDataSource(fresh.url, { poolSize: 1 }).initialize(),
        await createDataSource(fresh.url, { poolSize: 1 }).initialize(),
      ];
      const applied = await Promise.all([runMigrationsLocked(a), runMigrationsLocked(b)]);
      await Promise.all([a.destroy(), b.destroy()]);
      expect([...applied[0], ...applied[1]].map((m) => m.name)).toEqual(MIGRATIONS.map((m) => new m().name));
    } finally {
      await fresh.drop();
    }
  });
});
