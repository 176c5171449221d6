import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from '../../../../tools/infra/self-signed-certificate';
import { ConfigError, loadConfig } from './config';
import { DcConfig } from './dc-config';

/** An app's configuration, as each app declares its ports. */
class AppConfig extends DcConfig {
  override PORT = 8080;
  override TLS_PORT = 8443;
}

describe("an app's HTTPS variables (DcConfig)", () => {
  let dir: string;
  let pair: { certFile: string; keyFile: string };
  const base = { DC_ID: 'dc1', KAFKA_BROKERS: '127.0.0.1:9092', PORT: '8080' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(AppConfig, { ...base, ...env });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems;
    }
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'apim-gateway-config-'));
    pair = selfSignedCertificate(dir, 'gateway');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves plain HTTP only without a certificate, and HTTPS on TLS_PORT with one', () => {
    expect(loadConfig(AppConfig, base).tls).toBeNull();
    const config = loadConfig(AppConfig, { ...base, TLS_CERT_FILE: pair.certFile, TLS_KEY_FILE: pair.keyFile });
    expect(config.TLS_PORT).toBe(8443);
    expect(config.tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('wants both files, readable, on a port of their own', () => {
    expect(problems({ TLS_CERT_FILE: pair.certFile })).toEqual([
      { variable: 'TLS_KEY_FILE', reason: 'HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE' },
    ]);
    expect(problems({ TLS_CERT_FILE: pair.certFile, TLS_KEY_FILE: join(dir, 'missing.pem') })).toEqual([
      { variable: 'TLS_KEY_FILE', reason: 'names a file this process cannot read' },
    ]);
    expect(problems({ TLS_CERT_FILE: pair.certFile, TLS_KEY_FILE: pair.keyFile, TLS_PORT: '8080' })).toEqual([
      { variable: 'TLS_PORT', reason: 'must differ from PORT' },
    ]);
  });

  it('names a certificate and key that do not load, without echoing what the files hold', () => {
    const secretish = join(dir, 'garbage.pem');
    writeFileSync(secretish, 'PRIVATE-GARBAGE-1234');
    const [problem] = problems({ TLS_CERT_FILE: secretish, TLS_KEY_FILE: pair.keyFile });
    expect(problem.variable).toBe('TLS_CERT_FILE');
    expect(problem.reason).toMatch(/^with TLS_KEY_FILE, is not a PEM certificate and its private key \(.+\)$/);
    expect(problem.reason).not.toContain('PRIVATE-GARBAGE');
    // A key that is not the certificate's.
    const other = selfSignedCertificate(dir, 'other');
    expect(problems({ TLS_CERT_FILE: pair.certFile, TLS_KEY_FILE: other.keyFile })).toEqual([
      { variable: 'TLS_CERT_FILE', reason: expect.stringMatching(/^with TLS_KEY_FILE, is not a PEM certificate and its private key/) },
    ]);
  });
});
