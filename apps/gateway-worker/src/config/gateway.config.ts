import { accessSync, constants, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createSecureContext } from 'node:tls';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { ConfigProblem, DcConfig } from '@apim/events';

/** The gateway's environment variables (see the README's table). */
export class GatewayConfig extends DcConfig {
  override PORT: number = 8080;

  /** This instance's id in heartbeats and usage records; defaults to `<hostname>-<pid>`. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/, { message: 'must be 1..128 letters, digits or ._:-' })
  GATEWAY_ID?: string;

  /** File where the routing table and its offsets are snapshotted; none means no snapshot. */
  @IsOptional()
  @IsString()
  SNAPSHOT_FILE?: string;

  /** Seconds between snapshots (one is also written at shutdown). */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  SNAPSHOT_INTERVAL_SECONDS: number = 30;

  /** `iss` of the access tokens the gateway accepts: the control planes' APIM_ISSUER. */
  @IsString()
  APIM_ISSUER: string = 'apim';

  /** Largest request body forwarded; larger ones get 413. */
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  BODY_LIMIT_BYTES: number = 10 * 1024 * 1024;

  /** Keep-alive connections per upstream origin. */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(10_000)
  UPSTREAM_CONNECTIONS: number = 256;

  /** Seconds between `gateway.heartbeat` records. */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  HEARTBEAT_INTERVAL_SECONDS: number = 5;

  /**
   * `raw` (default): TCP through libuv's handles directly, without net.Socket,
   * about 2.5x less CPU per proxied request; `node`: node:net sockets. Raw
   * falls back to node, with a warning, on a Node.js whose internals differ
   * (docs/operations.md, "Gateway sockets").
   */
  @IsIn(['raw', 'node'], { message: 'must be raw or node' })
  GATEWAY_SOCKETS: 'raw' | 'node' = 'raw';

  /**
   * `dc` (default): the DC's serving gateways share each policy's rate, each
   * enforcing 1/N of it, N counted from their heartbeats (docs/operations.md,
   * "Rate limits"); `gateway`: each gateway enforces the whole rate.
   */
  @IsIn(['dc', 'gateway'], { message: 'must be dc or gateway' })
  RATE_LIMIT_SCOPE: 'dc' | 'gateway' = 'dc';

  /** HTTPS port, served besides PORT when TLS_CERT_FILE and TLS_KEY_FILE are set (0: any free port). */
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(65535)
  TLS_PORT: number = 8443;

  /** PEM certificate chain presented on TLS_PORT (the server's certificate first). Read again on SIGHUP. */
  @IsOptional()
  @IsString()
  TLS_CERT_FILE?: string;

  /** PEM private key of TLS_CERT_FILE's certificate. Read again on SIGHUP. */
  @IsOptional()
  @IsString()
  TLS_KEY_FILE?: string;

  override crossCheck(): ConfigProblem[] {
    const problems = super.crossCheck();
    if ((this.TLS_CERT_FILE === undefined) !== (this.TLS_KEY_FILE === undefined))
      return [
        ...problems,
        {
          variable: this.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE',
          reason: 'HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE',
        },
      ];
    if (this.TLS_CERT_FILE === undefined) return problems;
    if (this.TLS_PORT !== 0 && this.TLS_PORT === this.PORT) return [...problems, { variable: 'TLS_PORT', reason: 'must differ from PORT' }];
    for (const variable of ['TLS_CERT_FILE', 'TLS_KEY_FILE'] as const) {
      try {
        accessSync(this[variable]!, constants.R_OK);
      } catch {
        problems.push({ variable, reason: 'names a file this process cannot read' });
      }
    }
    if (problems.length === 0) {
      const problem = tlsProblem(this.tls!);
      if (problem) problems.push({ variable: 'TLS_CERT_FILE', reason: problem });
    }
    return problems;
  }

  /** The certificate and key, read from their files now; null without HTTPS. */
  get tls(): { cert: Buffer; key: Buffer } | null {
    if (this.TLS_CERT_FILE === undefined || this.TLS_KEY_FILE === undefined) return null;
    return { cert: readFileSync(this.TLS_CERT_FILE), key: readFileSync(this.TLS_KEY_FILE) };
  }

  get gatewayId(): string {
    return (
      this.GATEWAY_ID ??
      `${hostname()
        .replace(/[^A-Za-z0-9._:-]/g, '-')
        .slice(0, 100)}-${process.pid}`
    );
  }
}

/** Why a certificate and key cannot serve TLS (OpenSSL's reason: it names no key material), or null when they can. */
export function tlsProblem(tls: { cert: Buffer; key: Buffer }): string | null {
  try {
    createSecureContext(tls);
    return null;
  } catch (error) {
    return `with TLS_KEY_FILE, is not a PEM certificate and its private key (${(error as Error).message})`;
  }
}
