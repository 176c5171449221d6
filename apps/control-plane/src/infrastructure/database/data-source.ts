import { DataSource, MigrationExecutor } from 'typeorm';
import { MIGRATIONS } from '@apim/migrations';

/** A TypeORM data source for one DC's database; the schema comes only from migrations/. */
export function createDataSource(url: string, options: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize ?? 10, application_name: options.applicationName ?? 'apim' },
  });
}

/** Advisory lock key held while migrating ('apmg' in ASCII). */
const MIGRATION_LOCK_KEY = 0x61706d67;

/**
 * Runs the pending migrations while holding an advisory lock, so that control
 * planes starting together on a new database migrate it once, one after the
 * other (without it, the second fails on a table the first just created).
 * The lock and the migrations share one connection, so a pool of one is
 * enough. Returns the migrations this call applied.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<{ name: string }[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock($1)`, [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = dataSource.options.migrationsTransactionMode ?? 'all';
    return await executor.executePendingMigrations();
  } finally {
    await runner.query(`SELECT pg_advisory_unlock($1)`, [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
