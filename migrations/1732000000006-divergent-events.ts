import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events of a fenced epoch, moved out of the store (or refused on import):
 * what `divergentEvents` lists. The whole envelope is kept for an operator to
 * inspect or re-apply by hand; `reason` says how it was found. Also claims
 * the contexts of APIs imported before the importer started claiming them.
 */
export class DivergentEvents1732000000006 implements MigrationInterface {
  name = 'DivergentEvents1732000000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE divergent_events (
        event_id         uuid         PRIMARY KEY,
        stream_id        text         NOT NULL,
        version          int          NOT NULL,
        type             text         NOT NULL,
        origin_dc        text         NOT NULL,
        epoch            int          NOT NULL,
        fenced_in_epoch  int          NOT NULL,
        reason           text         NOT NULL,
        envelope         jsonb,
        recorded_at      timestamptz  NOT NULL DEFAULT now()
      )`);
    // Imported APIs claim their context from now on (the importer does it); claim those imported before.
    await queryRunner.query(`
      INSERT INTO api_contexts (context, version, api_id)
      SELECT c.payload->>'context', c.payload->>'version', c.stream_id
        FROM events c
       WHERE c.type = 'api.created'
         AND NOT EXISTS (SELECT 1 FROM events r WHERE r.stream_id = c.stream_id AND r.type = 'api.retired')
       ORDER BY c.event_id
      ON CONFLICT (context, version) DO NOTHING`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE divergent_events`);
  }
}
