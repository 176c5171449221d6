import 'reflect-metadata';
import { IsInt, IsString, Min, ValidateIf } from 'class-validator';

/** `region.fenced` v1 (stream id `region`): switchover; `dc` stops taking writes in `epoch`. */
export class RegionFencedV1 {
  @IsString()
  dc!: string;

  /** An epoch, hence >= 0 like the envelope's (the catalogue says only "int"). */
  @IsInt()
  @Min(0)
  epoch!: number;
}

/**
 * `region.fenced` v2: as v1, plus the switchover's `successor`, which promotes
 * itself once it holds `eventsBefore` events of `dc` (both null: a fence that
 * waits for an explicit promotion, as every v1 fence).
 */
export class RegionFencedV2 {
  @IsString()
  dc!: string;

  @IsInt()
  @Min(0)
  epoch!: number;

  /** Required, null when no successor was named. */
  @ValidateIf((payload: RegionFencedV2) => payload.successor !== null)
  @IsString()
  successor!: string | null;

  /** Required, null when no successor was named. */
  @ValidateIf((payload: RegionFencedV2) => payload.eventsBefore !== null)
  @IsInt()
  @Min(0)
  eventsBefore!: number | null;
}
