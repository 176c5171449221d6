import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store and the bookkeeping of its readers.
 *
 * `transaction_id` records the writing transaction (xid8). Readers take rows in
 * (transaction_id, position) order and only from transactions older than the
 * oldest one still running (pg_snapshot_xmin), so a transaction that commits
 * after a higher position became visible is never skipped. See docs/architecture.md.
 */
export class EventStore1732000000000 implements MigrationInterface {
  name = 'EventStore1732000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        position        bigserial    PRIMARY KEY,
        transaction_id  xid8         NOT NULL DEFAULT pg_current_xact_id(),
        event_id        uuid         NOT NULL,
        stream_id       text         NOT NULL,
        stream_type     text         NOT NULL,
        version         integer      NOT NULL CHECK (version >= 1),
        type            text         NOT NULL,
        schema_version  integer      NOT NULL CHECK (schema_version >= 1),
        payload         jsonb        NOT NULL,
        metadata        jsonb        NOT NULL DEFAULT '{}'::jsonb,
        origin_dc       text         NOT NULL,
        epoch           integer      NOT NULL CHECK (epoch >= 0),
        occurred_at     timestamptz  NOT NULL,
        recorded_at     timestamptz  NOT NULL DEFAULT now(),
        CONSTRAINT events_event_id_unique UNIQUE (event_id),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
      )`);
    await queryRunner.query(`CREATE INDEX events_tailing_idx ON events (transaction_id, position)`);
    await queryRunner.query(`CREATE INDEX events_origin_tailing_idx ON events (origin_dc, transaction_id, position)`);
    await queryRunner.query(`
      CREATE TABLE checkpoints (
        name            text         PRIMARY KEY,
        transaction_id  xid8         NOT NULL DEFAULT '0'::xid8,
        position        bigint       NOT NULL DEFAULT 0,
        updated_at      timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE snapshots (
        stream_id       text         PRIMARY KEY,
        stream_type     text         NOT NULL,
        version         integer      NOT NULL,
        state           jsonb        NOT NULL,
        taken_at        timestamptz  NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE snapshots`);
    await queryRunner.query(`DROP TABLE checkpoints`);
    await queryRunner.query(`DROP TABLE events`);
  }
}
