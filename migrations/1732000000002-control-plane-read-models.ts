import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models of the publisher, devportal, key manager and auth modules, and
 * the two write-side tables that must change in the same transaction as an
 * append: live API contexts (uniqueness) and this DC's signing keys (private
 * halves, encrypted; they never enter an event).
 */
export class ControlPlaneReadModels1732000000002 implements MigrationInterface {
  name = 'ControlPlaneReadModels1732000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rm_policies (
        name                 text         PRIMARY KEY,
        requests_per_minute  integer      NOT NULL,
        burst                integer      NOT NULL,
        unlimited            boolean      NOT NULL,
        created_at           timestamptz  NOT NULL
      );
      CREATE TABLE rm_applications (
        id          text         PRIMARY KEY,
        owner_id    text         NOT NULL,
        name        text         NOT NULL,
        policy      text         NOT NULL,
        home_dc     text         NOT NULL,
        created_at  timestamptz  NOT NULL
      );
      CREATE INDEX rm_applications_owner ON rm_applications (owner_id);
      CREATE TABLE rm_subscriptions (
        id              text         PRIMARY KEY,
        application_id  text         NOT NULL,
        api_id          text         NOT NULL,
        tier            text         NOT NULL,
        status          text         NOT NULL,
        updated_at      timestamptz  NOT NULL
      );
      CREATE INDEX rm_subscriptions_application ON rm_subscriptions (application_id);
      CREATE TABLE rm_api_keys (
        id              text         PRIMARY KEY,
        application_id  text         NOT NULL,
        prefix          text         NOT NULL,
        status          text         NOT NULL,
        expires_at      timestamptz,
        created_at      timestamptz  NOT NULL
      );
      CREATE INDEX rm_api_keys_application ON rm_api_keys (application_id);
      CREATE TABLE rm_oauth_clients (
        id              text         PRIMARY KEY,
        application_id  text         NOT NULL,
        status          text         NOT NULL,
        created_at      timestamptz  NOT NULL
      );
      CREATE TABLE rm_users (
        id          text         PRIMARY KEY,
        username    text         NOT NULL UNIQUE,
        roles       jsonb        NOT NULL,
        created_at  timestamptz  NOT NULL
      );
      CREATE TABLE rm_signing_keys (
        kid          text         PRIMARY KEY,
        dc           text         NOT NULL,
        public_jwk   jsonb        NOT NULL,
        active_from  timestamptz  NOT NULL
      );
      CREATE TABLE rm_revoked_tokens (
        jti         text         PRIMARY KEY,
        expires_at  timestamptz  NOT NULL
      );
      CREATE TABLE api_contexts (
        context  text  NOT NULL,
        version  text  NOT NULL,
        api_id   text  NOT NULL UNIQUE,
        PRIMARY KEY (context, version)
      );
      CREATE TABLE signing_key_secrets (
        kid              text         PRIMARY KEY,
        dc               text         NOT NULL,
        public_jwk       jsonb        NOT NULL,
        private_key_enc  text         NOT NULL,
        created_at       timestamptz  NOT NULL DEFAULT now()
      );
      CREATE TABLE issued_tokens (
        jti             text         PRIMARY KEY,
        client_id       text         NOT NULL,
        application_id  text         NOT NULL,
        expires_at      timestamptz  NOT NULL
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE issued_tokens; DROP TABLE signing_key_secrets; DROP TABLE api_contexts; DROP TABLE rm_revoked_tokens;
      DROP TABLE rm_signing_keys; DROP TABLE rm_users; DROP TABLE rm_oauth_clients; DROP TABLE rm_api_keys;
      DROP TABLE rm_subscriptions; DROP TABLE rm_applications; DROP TABLE rm_policies;
    `);
  }
}
