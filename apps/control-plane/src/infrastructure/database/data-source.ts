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
