import { hostname } from 'node:os';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { DcConfig } from '@apim/events';

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

  override TLS_PORT: number = 8443;

  /**
   * Open WebSockets (upgrade tunnels) this gateway holds at most: each holds a
   * client and an upstream connection outside the pool. Handshakes beyond it
   * get 503 TOO_MANY_WEBSOCKETS; 0 refuses every upgrade.
   */
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  WEBSOCKET_MAX_CONNECTIONS: number = 10_000;

  get gatewayId(): string {
    return (
      this.GATEWAY_ID ??
      `${hostname()
        .replace(/[^A-Za-z0-9._:-]/g, '-')
        .slice(0, 100)}-${process.pid}`
    );
  }
}
