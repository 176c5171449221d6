import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far this DC's importer trails each peer mirror partition: written every
 * few seconds by the control plane instance that consumes the partition, read
 * by `regions` (any instance answers for all: partitions are shared out).
 */
export class ImporterProgress1732000000010 implements MigrationInterface {
  name = 'ImporterProgress1732000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE importer_progress (
        topic       text         NOT NULL,
        partition   int          NOT NULL,
        lag         bigint       NOT NULL,
        updated_at  timestamptz  NOT NULL,
        PRIMARY KEY (topic, partition)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE importer_progress`);
  }
}
