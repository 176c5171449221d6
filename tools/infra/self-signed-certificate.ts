import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SelfSigned {
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

/**
 * A self-signed EC certificate for 127.0.0.1 (valid one day), made with the
 * openssl command line: `<name>.key.pem` and `<name>.cert.pem` in `dir`, the
 * subject's CN being `name`. The certificate is its own CA: clients trust it
 * by passing it as `ca`. For tests and benchmarks.
 */
export function selfSignedCertificate(dir: string, name: string): SelfSigned {
  const [keyFile, certFile] = [join(dir, `${name}.key.pem`), join(dir, `${name}.cert.pem`)];
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
    ],
    { stdio: 'ignore' },
  );
  return { keyFile, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
