import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@apim/events';
import { configErrorMessage } from '../../../../test/support/config';
import { ReplicatorConfig } from './replicator.config';

const dir = mkdtempSync(join(tmpdir(), 'replicator-config-'));
const ca = join(dir, 'peer-ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');

const base = { DC_ID: 'dc1', KAFKA_BROKERS: '127.0.0.1:9092', PEER_KAFKA_BROKERS: 'dc2=10.0.0.2:9092;dc3=10.0.0.3:9092' };
const load = (env: Record<string, string>) => loadConfig(ReplicatorConfig, { ...base, ...env });

const problems = (env: Record<string, string>) => configErrorMessage(() => load(env));

describe("the replicator's Kafka identities", () => {
  it("reaches every peer with this DC's identity when a peer has none of its own", () => {
    const config = load({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'repl', KAFKA_SASL_PASSWORD: 'own-secret' });
    const own = { sasl: { mechanism: 'plain', username: 'repl', password: 'own-secret' } };
    expect(config.kafkaSecurity).toEqual(own);
    expect(config.sources.map(({ dc, security }) => [dc, security])).toEqual([
      ['dc2', own],
      ['dc3', own],
    ]);
  });

  it("reaches a peer with its own PEER_<DC>_KAFKA_* variables, all of them and only them, and its own cluster with this DC's", () => {
    const config = load({
      PEER_DC2_KAFKA_TLS_CA_FILE: ca,
      PEER_DC2_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      PEER_DC2_KAFKA_SASL_USERNAME: 'dc1-mirror',
      PEER_DC2_KAFKA_SASL_PASSWORD: 'peer-secret',
    });
    expect(config.kafkaSecurity).toEqual({});
    const [dc2, dc3] = config.sources;
    expect(dc2).toEqual({
      dc: 'dc2',
      brokers: ['10.0.0.2:9092'],
      security: {
        ssl: { ca: [expect.stringContaining('BEGIN CERTIFICATE')] },
        sasl: { mechanism: 'scram-sha-512', username: 'dc1-mirror', password: 'peer-secret' },
      },
    });
    expect(dc3.security).toEqual({});
  });

  it('names a peer variable that is incomplete, misspelt or for a DC it does not mirror, under its own name, never with its value', () => {
    const incomplete = problems({ PEER_DC2_KAFKA_SASL_MECHANISM: 'plain', PEER_DC2_KAFKA_SASL_PASSWORD: 'peer-secret' });
    expect(incomplete).toMatch(/PEER_DC2_KAFKA_SASL_USERNAME: is required with PEER_DC2_KAFKA_SASL_MECHANISM/);
    expect(incomplete).not.toContain('peer-secret');
    expect(
      problems({ PEER_DC2_KAFKA_SASL_MECHANISM: 'kerberos', PEER_DC2_KAFKA_SASL_USERNAME: 'u', PEER_DC2_KAFKA_SASL_PASSWORD: 'p' }),
    ).toMatch(/PEER_DC2_KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512/);
    expect(problems({ PEER_DC2_KAFKA_TLS: 'maybe' })).toMatch(/PEER_DC2_KAFKA_TLS: must be true or false/);
    expect(problems({ PEER_DC2_KAFKA_SASL_PASWORD: 'peer-secret' })).toMatch(
      /PEER_DC2_KAFKA_SASL_PASWORD: is not a Kafka security variable/,
    );
    expect(problems({ PEER_DC9_KAFKA_TLS: 'true' })).toMatch(/PEER_DC9_KAFKA_TLS: names dc9, which is not a peer this replicator mirrors/);
    expect(problems({ PEER_DC2_KAFKA_TLS_CA_FILE: join(dir, 'missing.pem') })).toMatch(
      /PEER_DC2_KAFKA_TLS_CA_FILE: names a file this process cannot read/,
    );
  });
});
