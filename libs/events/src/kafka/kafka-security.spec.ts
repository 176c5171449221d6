import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configErrorMessage } from '../../../../test/support/config';
import { loadConfig } from '../runtime/config';
import { DcConfig } from '../runtime/dc-config';

const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const base = { DC_ID: 'dc1', KAFKA_BROKERS: '127.0.0.1:9092', PORT: '8080' };
const load = (env: Record<string, string>) => loadConfig(DcConfig, { ...base, ...env });

const problems = (env: Record<string, string>) => configErrorMessage(() => load(env));

describe('Kafka TLS and SASL from the environment', () => {
  it('is plaintext without any of the variables', () => {
    expect(load({}).kafkaSecurity).toEqual({});
  });

  it('uses TLS with the system CAs for KAFKA_TLS=true, and the CA file when one is named', () => {
    expect(load({ KAFKA_TLS: 'true' }).kafkaSecurity).toEqual({ ssl: true });
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    expect(load({ KAFKA_TLS_CA_FILE: ca }).kafkaSecurity).toEqual({ ssl: { ca: [expect.stringContaining('BEGIN CERTIFICATE')] } });
    expect(
      load({ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: file('c.pem', 'CERT'), KAFKA_TLS_KEY_FILE: file('k.pem', 'KEY') }).kafkaSecurity,
    ).toEqual({
      ssl: { cert: 'CERT', key: 'KEY' },
    });
  });

  it('authenticates with SASL, the password given or read from a file (without its final newline)', () => {
    expect(load({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD: 'p4ss' }).kafkaSecurity).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'gw', password: 'p4ss' },
    });
    const secret = file('password', 'from-file\n');
    expect(load({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD_FILE: secret }).kafkaSecurity.sasl).toEqual(
      {
        mechanism: 'plain',
        username: 'gw',
        password: 'from-file',
      },
    );
  });

  it('names what is missing or contradictory, and never echoes a value', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'plain' })).toMatch(
      /KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM; KAFKA_SASL_PASSWORD: is required/,
    );
    const both = problems({
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'gw',
      KAFKA_SASL_PASSWORD: 's3cr3t-value',
      KAFKA_SASL_PASSWORD_FILE: file('p', 'x'),
    });
    expect(both).toMatch(/KAFKA_SASL_PASSWORD_FILE: set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both/);
    expect(both).not.toContain('s3cr3t-value');
    const without = problems({ KAFKA_SASL_USERNAME: 'gw', KAFKA_SASL_PASSWORD: 's3cr3t-value' });
    expect(without).toMatch(/KAFKA_SASL_USERNAME: is used only with KAFKA_SASL_MECHANISM/);
    expect(without).not.toContain('s3cr3t-value');
    expect(problems({ KAFKA_SASL_MECHANISM: 'gssapi' })).toMatch(
      /KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512/,
    );
    expect(problems({ KAFKA_TLS_CERT_FILE: file('c2.pem', 'CERT') })).toMatch(/KAFKA_TLS_KEY_FILE: a client certificate needs both/);
    expect(problems({ KAFKA_TLS_CA_FILE: join(dir, 'missing.pem') })).toMatch(/KAFKA_TLS_CA_FILE: names a file this process cannot read/);
    expect(problems({ KAFKA_TLS: 'false', KAFKA_TLS_CA_FILE: file('ca2.pem', 'x') })).toMatch(
      /KAFKA_TLS: is false, but KAFKA_TLS_\* files are set/,
    );
    expect(problems({ KAFKA_TLS: 'yes' })).toMatch(/KAFKA_TLS: must be true or false/);
  });
});
