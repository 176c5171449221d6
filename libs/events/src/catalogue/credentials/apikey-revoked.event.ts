import 'reflect-metadata';
import { IsString } from 'class-validator';

/** `apikey.revoked` v1: the key no longer authenticates. */
export class ApikeyRevokedV1 {
  @IsString()
  applicationId!: string;
}
