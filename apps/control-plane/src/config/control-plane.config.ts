import { IsIn, IsInt, IsOptional, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { DC_ID_PATTERN, DcConfig } from '@apim/events';

export const REPLICATION_MODES = ['active-passive', 'active-active'] as const;
export type ReplicationMode = (typeof REPLICATION_MODES)[number];

const BASE64_32_BYTES = /^[A-Za-z0-9+/_-]{43}=?$/;

// Numbers carry an explicit `: number`: class-transformer converts from the
// environment's strings by the declared type, which an initialiser alone does not emit.
export class ControlPlaneConfig extends DcConfig {
  override PORT = 4000;
  override TLS_PORT = 4443;

  /** PostgreSQL holding this DC's event store and read models. */
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL!: string;

  @IsIn(REPLICATION_MODES)
  REPLICATION_MODE: ReplicationMode = 'active-passive';

  /** Active-passive: the DC that is primary on a fresh installation (default: the first DC id in sort order). */
  @IsOptional()
  @Matches(DC_ID_PATTERN, { message: 'must be a DC id such as dc1' })
  PRIMARY_DC?: string;

  /** 32 random bytes, base64: encrypts this DC's private signing keys at rest (`openssl rand -base64 32`). */
  @Matches(BASE64_32_BYTES, { message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)' })
  APIM_SECRET_KEY!: string;

  /** The first ADMIN, created once when the primary starts (both or neither). */
  @ValidateIf((config: ControlPlaneConfig) => config.APIM_ADMIN_PASSWORD !== undefined)
  @Matches(/^[A-Za-z0-9._-]{3,32}$/, { message: 'must be 3..32 characters [A-Za-z0-9._-], and is required with APIM_ADMIN_PASSWORD' })
  APIM_ADMIN_USER?: string;

  @ValidateIf((config: ControlPlaneConfig) => config.APIM_ADMIN_USER !== undefined)
  @MinLength(10, { message: 'must be at least 10 characters, and is required with APIM_ADMIN_USER' })
  APIM_ADMIN_PASSWORD?: string;

  /** `iss` of every token this control plane signs. */
  @Matches(/^\S{1,200}$/, { message: 'must be a non-empty string without spaces' })
  APIM_ISSUER: string = 'apim';

  /** Lifetime of OAuth2 access tokens (client_credentials). */
  @IsInt({ message: 'must be an integer' })
  @Min(30)
  @Max(86_400)
  OAUTH_TOKEN_TTL_SECONDS: number = 300;

  /** Lifetime of admin API access tokens (login). */
  @IsInt({ message: 'must be an integer' })
  @Min(60)
  @Max(86_400)
  ACCESS_TOKEN_TTL_SECONDS: number = 3600;

  @IsInt({ message: 'must be an integer' })
  @Min(2)
  @Max(50)
  GRAPHQL_MAX_DEPTH: number = 16;

  @IsInt({ message: 'must be an integer' })
  @Min(10)
  @Max(1_000_000)
  GRAPHQL_MAX_COST: number = 5000;

  /** Largest request body accepted, in bytes. */
  @IsInt({ message: 'must be an integer' })
  @Min(1024)
  @Max(50 * 1024 * 1024)
  REQUEST_BODY_LIMIT_BYTES: number = 256 * 1024;

  /** Failed logins allowed per username per window before LOGIN_RATE_LIMITED. */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  LOGIN_MAX_ATTEMPTS: number = 5;

  @IsInt({ message: 'must be an integer' })
  @Min(1)
  LOGIN_WINDOW_SECONDS: number = 300;

  /** A gateway silent for longer than this is listed as GONE by the `gateways` query. */
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  GATEWAY_GONE_AFTER_SECONDS: number = 30;

  /** A gateway silent for longer than this is no longer listed at all. */
  @IsInt({ message: 'must be an integer' })
  @Min(60)
  GATEWAY_FORGET_AFTER_SECONDS: number = 86_400;

  /** Every DC of the topology, this one first. */
  get allDcs(): string[] {
    return [this.DC_ID, ...this.peerDcs];
  }

  /** Active-passive: who is primary until a `region.promoted` says otherwise. */
  get initialPrimary(): string {
    return this.PRIMARY_DC ?? [...this.allDcs].sort()[0];
  }
}
