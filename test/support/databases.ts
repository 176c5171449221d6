import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../apps/control-plane/src/infrastructure/database/data-source';
import { createDatabase, dropDatabase } from '../../tools/infra/postgres';
import { postgresAdminUrl } from './test-env';

/** A fresh database of its own for one test file, dropped by `drop()`. */
export class TestDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(prefix: string): Promise<TestDatabase> {
    const name = `apim_t_${prefix.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
    return new TestDatabase(name, await createDatabase(postgresAdminUrl(), name));
  }

  /** A data source on this database with every migration applied. */
  async migrated(poolSize = 10): Promise<DataSource> {
    const dataSource = await createDataSource(this.url, { poolSize }).initialize();
    await dataSource.runMigrations();
    return dataSource;
  }

  async drop(): Promise<void> {
    await dropDatabase(postgresAdminUrl(), this.name);
  }
}
