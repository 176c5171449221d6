import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Usage read model fed by the analytics ingestor: per-minute buckets per API,
 * application ('' for none) and gateway DC, and the ids of the records already
 * counted, so that a record delivered twice counts once. The (api_id, minute)
 * index serves the usage query across applications and DCs; the seen_at index
 * lets the ingestor prune ids that Kafka can no longer redeliver.
 */
export class UsageReadModel1732000000003 implements MigrationInterface {
  name = 'UsageReadModel1732000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rm_usage (
        api_id          text              NOT NULL,
        application_id  text              NOT NULL,
        dc              text              NOT NULL,
        minute          timestamptz       NOT NULL,
        requests        bigint            NOT NULL,
        errors          bigint            NOT NULL,
        client_errors   bigint            NOT NULL,
        latency_ms_sum  double precision  NOT NULL,
        latency_ms_max  double precision  NOT NULL,
        PRIMARY KEY (api_id, application_id, dc, minute)
      );
      CREATE INDEX rm_usage_api_minute ON rm_usage (api_id, minute);
      CREATE TABLE usage_records_seen (
        record_id  uuid         PRIMARY KEY,
        seen_at    timestamptz  NOT NULL DEFAULT now()
      );
      CREATE INDEX usage_records_seen_seen_at ON usage_records_seen (seen_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE usage_records_seen; DROP TABLE rm_usage`);
  }
}
