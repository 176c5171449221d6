import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far this DC trails each peer, from the replicator's heartbeats (one row
 * per source DC, the latest heartbeat wins): what the `regions` query shows.
 */
export class ReplicationStatus1732000000005 implements MigrationInterface {
  name = 'ReplicationStatus1732000000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rm_replication (
        source             text         PRIMARY KEY,
        replicator_id      text         NOT NULL,
        state              text         NOT NULL,
        last_seen          timestamptz  NOT NULL,
        lag_records        bigint       NOT NULL,
        lag_ms             bigint       NOT NULL,
        records_per_second double precision NOT NULL,
        partitions         jsonb        NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE rm_replication`);
  }
}
