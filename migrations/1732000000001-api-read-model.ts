import { MigrationInterface, QueryRunner } from 'typeorm';

/** Read model of APIs, kept by the `apis` projection. */
export class ApiReadModel1732000000001 implements MigrationInterface {
  name = 'ApiReadModel1732000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rm_apis (
        id                   text         PRIMARY KEY,
        name                 text         NOT NULL,
        version              text         NOT NULL,
        context              text         NOT NULL,
        state                text         NOT NULL,
        upstream_urls        jsonb        NOT NULL,
        upstream_timeout_ms  integer      NOT NULL,
        operations           jsonb        NOT NULL,
        tiers                jsonb        NOT NULL,
        visibility           text         NOT NULL,
        home_dc              text         NOT NULL,
        stream_version       integer      NOT NULL,
        created_at           timestamptz  NOT NULL,
        updated_at           timestamptz  NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX rm_apis_context_idx ON rm_apis (context, version)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE rm_apis`);
  }
}
