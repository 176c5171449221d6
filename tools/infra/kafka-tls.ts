import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerCertificates } from './kafka-cluster';

/**
 * A self-signed certificate for a broker on 127.0.0.1 (valid for localhost
 * and 127.0.0.1, for a week), made with the JDK's keytool: a PKCS12 keystore
 * for the broker, a truststore holding the same certificate (the broker is a
 * client of its own listener), and the certificate as PEM for clients to trust.
 */
export function makeBrokerCertificates(dir: string): BrokerCertificates {
  mkdirSync(dir, { recursive: true });
  const password = randomBytes(12).toString('hex');
  const keystore = join(dir, 'broker.p12');
  const truststore = join(dir, 'trust.p12');
  const pem = join(dir, 'ca.pem');
  const keytool = (args: string[]) => execFileSync('keytool', args, { stdio: 'pipe' });
  keytool([
    '-genkeypair',
    '-alias',
    'broker',
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-dname',
    'CN=localhost',
    '-ext',
    'SAN=dns:localhost,ip:127.0.0.1',
    '-validity',
    '7',
    '-storetype',
    'PKCS12',
    '-keystore',
    keystore,
    '-storepass',
    password,
    '-keypass',
    password,
  ]);
  keytool(['-exportcert', '-rfc', '-alias', 'broker', '-keystore', keystore, '-storepass', password, '-file', pem]);
  keytool([
    '-importcert',
    '-noprompt',
    '-alias',
    'broker',
    '-file',
    pem,
    '-storetype',
    'PKCS12',
    '-keystore',
    truststore,
    '-storepass',
    password,
  ]);
  return { keystore, truststore, password, caPem: readFileSync(pem, 'utf8') };
}
