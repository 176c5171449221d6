import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsString, ValidateNested } from 'class-validator';
import { IsIsoDateTime } from '../field-rules';

/** The public half of a P-256 key. Any other member (notably the private `d`) is refused. */
export class PublicJwk {
  @IsIn(['EC'])
  kty!: 'EC';

  @IsIn(['P-256'])
  crv!: 'P-256';

  @IsString()
  x!: string;

  @IsString()
  y!: string;
}

/** `signing-key.rotated` v1 (stream id `signing-key:<dc>`). Public part only; the private key stays in its DC, encrypted. */
export class SigningKeyRotatedV1 {
  @IsString()
  kid!: string;

  @IsIn(['ES256'])
  alg!: 'ES256';

  @IsObject()
  @ValidateNested()
  @Type(() => PublicJwk)
  publicJwk!: PublicJwk;

  @IsIsoDateTime()
  activeFrom!: string;
}
