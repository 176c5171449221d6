import { DataSource } from 'typeorm';
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
 * Returns the migrations this call applied.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<{ name: string }[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock($1)`, [MIGRATION_LOCK_KEY]);
    return await dataSource.runMigrations();
  } finally {
    await lock.query(`SELECT pg_advisory_unlock($1)`, [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}
