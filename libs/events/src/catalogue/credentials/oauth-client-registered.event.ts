import 'reflect-metadata';
import { IsString } from 'class-validator';
import { IsSha256 } from '../field-rules';

/** `oauth-client.registered` v1 (stream id = client id). Carries the secret's hash only. */
export class OauthClientRegisteredV1 {
  @IsString()
  applicationId!: string;

  @IsSha256()
  secretHash!: string;
}
