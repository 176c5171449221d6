import { accessSync, constants, readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { createSecureContext, SecureContextOptions } from 'node:tls';
import type { ConfigProblem } from './config';
import type { JsonLogger } from './logger';

/** The variables of an app's own HTTPS listener (DcConfig). */
export interface ServerTlsVariables {
  PORT: number;
  TLS_PORT?: number;
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
}

/** A PEM certificate chain and its private key, as read from TLS_CERT_FILE and TLS_KEY_FILE. */
export interface ServerTlsPair {
  cert: Buffer;
  key: Buffer;
}

/** What every HTTPS listener of ours offers besides the certificate: TLS 1.2 at least, HTTP/1.1 by ALPN. */
export const SERVER_TLS_OPTIONS: SecureContextOptions & { ALPNProtocols: string[] } = {
  minVersion: 'TLSv1.2',
  ALPNProtocols: ['http/1.1'],
};

/** Both files or neither, readable, a pair that loads, on a port other than PORT. */
export function serverTlsProblems(v: ServerTlsVariables): ConfigProblem[] {
  if ((v.TLS_CERT_FILE === undefined) !== (v.TLS_KEY_FILE === undefined))
    return [
      {
        variable: v.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE',
        reason: 'HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE',
      },
    ];
  if (v.TLS_CERT_FILE === undefined) return [];
  if (v.TLS_PORT === undefined) return [{ variable: 'TLS_PORT', reason: 'is required with TLS_CERT_FILE' }];
  if (v.TLS_PORT !== 0 && v.TLS_PORT === v.PORT) return [{ variable: 'TLS_PORT', reason: 'must differ from PORT' }];
  const problems: ConfigProblem[] = [];
  for (const variable of ['TLS_CERT_FILE', 'TLS_KEY_FILE'] as const) {
    try {
      accessSync(v[variable]!, constants.R_OK);
    } catch {
      problems.push({ variable, reason: 'names a file this process cannot read' });
    }
  }
  if (problems.length > 0) return problems;
  const problem = serverTlsPairProblem(readServerTls(v)!);
  return problem ? [{ variable: 'TLS_CERT_FILE', reason: problem }] : [];
}

/** The certificate and key, read from their files now; null without HTTPS. */
export function readServerTls(v: ServerTlsVariables): ServerTlsPair | null {
  if (v.TLS_CERT_FILE === undefined || v.TLS_KEY_FILE === undefined) return null;
  return { cert: readFileSync(v.TLS_CERT_FILE), key: readFileSync(v.TLS_KEY_FILE) };
}

/** Why a certificate and key cannot serve TLS (OpenSSL's reason: it names no key material), or null when they can. */
export function serverTlsPairProblem(pair: ServerTlsPair): string | null {
  try {
    createSecureContext(pair);
    return null;
  } catch (error) {
    return `with TLS_KEY_FILE, is not a PEM certificate and its private key (${(error as Error).message})`;
  }
}

/**
 * On SIGHUP, reads TLS_CERT_FILE and TLS_KEY_FILE again and hands the pair to
 * `apply` (new connections get it, open ones keep theirs); a pair that does
 * not load is logged, and the one in use stays.
 */
export function reloadServerTlsOnHangUp(v: ServerTlsVariables, logger: JsonLogger, apply: (pair: ServerTlsPair) => void): void {
  process.on('SIGHUP', () => {
    try {
      const pair = readServerTls(v);
      if (!pair) return logger.warn('SIGHUP: no TLS_CERT_FILE and TLS_KEY_FILE, nothing to reload');
      const problem = serverTlsPairProblem(pair);
      if (problem) throw new Error(`TLS_CERT_FILE ${problem}`);
      apply(pair);
      logger.info('TLS certificate reloaded', { file: v.TLS_CERT_FILE });
    } catch (error) {
      logger.error('TLS certificate not reloaded; the previous one is still served', { error: (error as Error).message });
    }
  });
}

/**
 * HTTPS on TLS_PORT with `handler` (the app's HTTP handler: the same routes as
 * on PORT), when TLS_CERT_FILE and TLS_KEY_FILE are set; null otherwise.
 * Resolves once listening; its port is the `port` property.
 */
export async function listenServerTls(
  v: ServerTlsVariables,
  handler: RequestListener,
  host = '0.0.0.0',
): Promise<(HttpsServer & { port: number }) | null> {
  const pair = readServerTls(v);
  if (!pair) return null;
  const server = createHttpsServer({ ...pair, ...SERVER_TLS_OPTIONS }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(v.TLS_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
