import 'reflect-metadata';
import { IsString, ValidateIf } from 'class-validator';
import { IsIsoDateTime } from '../field-rules';

/** `token.revoked` v1 (stream id `token:<jti>`): gateways keep the revocation until `expiresAt`. */
export class TokenRevokedV1 {
  @IsString()
  jti!: string;

  @IsIsoDateTime()
  expiresAt!: string;

  /** Required, null when the token belongs to no application. */
  @ValidateIf((payload: TokenRevokedV1) => payload.applicationId !== null)
  @IsString()
  applicationId!: string | null;
}
