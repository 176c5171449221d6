import 'reflect-metadata';
import { IsString } from 'class-validator';

/** `oauth-client.revoked` v1: the client no longer obtains tokens. */
export class OauthClientRevokedV1 {
  @IsString()
  applicationId!: string;
}
