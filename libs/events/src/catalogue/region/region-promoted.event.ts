import 'reflect-metadata';
import { IsInt, IsString, Min, ValidateIf } from 'class-validator';

/** `region.promoted` v1 (stream id `region`): `dc` is primary from `epoch` on. */
export class RegionPromotedV1 {
  @IsString()
  dc!: string;

  @IsInt()
  @Min(1)
  epoch!: number;

  /** Required, null for the first primary. */
  @ValidateIf((payload: RegionPromotedV1) => payload.previousPrimary !== null)
  @IsString()
  previousPrimary!: string | null;
}
