import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When an application was deleted (`application.deleted`), or null. The row
 * stays, so that its subscriptions, keys and clients keep their application;
 * lists leave it out.
 */
export class ApplicationDeleted1732000000009 implements MigrationInterface {
  name = 'ApplicationDeleted1732000000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE rm_applications ADD COLUMN deleted_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE rm_applications DROP COLUMN deleted_at`);
  }
}
