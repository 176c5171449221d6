import 'reflect-metadata';
import { IsString, Length, ValidateIf } from 'class-validator';
import { IsIsoDateTime, IsSha256 } from '../field-rules';

/** `apikey.generated` v1 (stream id = key id). Carries the key's hash only: the key itself is never in an event. */
export class ApikeyGeneratedV1 {
  @IsString()
  applicationId!: string;

  @IsSha256()
  keyHash!: string;

  @IsString()
  @Length(4, 12)
  prefix!: string;

  /** Required, null for a key that never expires. */
  @ValidateIf((payload: ApikeyGeneratedV1) => payload.expiresAt !== null)
  @IsIsoDateTime()
  expiresAt!: string | null;
}
