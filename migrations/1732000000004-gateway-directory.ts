import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gateways of this DC as their heartbeats describe them (one row per
 * gateway id, the latest heartbeat wins). Rows of gateways silent for longer
 * than the forget period are deleted by the directory; the `last_seen` index
 * serves that and the listing.
 */
export class GatewayDirectory1732000000004 implements MigrationInterface {
  name = 'GatewayDirectory1732000000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rm_gateways (
        gateway_id     text         PRIMARY KEY,
        dc             text         NOT NULL,
        version        text         NOT NULL,
        state          text         NOT NULL,
        started_at     timestamptz  NOT NULL,
        last_seen      timestamptz  NOT NULL,
        lag            bigint       NOT NULL,
        digest         text         NOT NULL,
        last_event_at  timestamptz,
        positions      jsonb        NOT NULL
      );
      CREATE INDEX rm_gateways_last_seen ON rm_gateways (last_seen)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE rm_gateways`);
  }
}
