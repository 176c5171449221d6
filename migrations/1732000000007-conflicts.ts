import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cross-DC uniqueness clashes of active-active mode, as both DCs resolve them
 * (`conflicts` query): the same stream id created in two DCs (a username, a
 * policy name, a subscription), or two APIs on one context and version. The
 * id is deterministic, so both DCs record the same row; the losing branch's
 * events, when they left a store, are kept in `loser_events`.
 */
export class Conflicts1732000000007 implements MigrationInterface {
  name = 'Conflicts1732000000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE conflicts (
        id               text         PRIMARY KEY,
        kind             text         NOT NULL,
        key              text         NOT NULL,
        winner_id        text         NOT NULL,
        winner_dc        text         NOT NULL,
        winner_event_id  uuid         NOT NULL,
        loser_id         text         NOT NULL,
        loser_dc         text         NOT NULL,
        loser_event_id   uuid         NOT NULL,
        loser_events     jsonb        NOT NULL DEFAULT '[]',
        detected_at      timestamptz  NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX conflicts_key ON conflicts (key)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE conflicts`);
  }
}
