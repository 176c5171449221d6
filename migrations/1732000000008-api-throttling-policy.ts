import { MigrationInterface, QueryRunner } from 'typeorm';

/** An API's own throttling policy (all its callers, per gateway), or null for none: `api.created` / `api.updated` `throttlingPolicy`. */
export class ApiThrottlingPolicy1732000000008 implements MigrationInterface {
  name = 'ApiThrottlingPolicy1732000000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE rm_apis ADD COLUMN throttling_policy text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE rm_apis DROP COLUMN throttling_policy`);
  }
}
