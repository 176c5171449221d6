import 'reflect-metadata';
import { IsIn, IsInt, IsString, IsUUID, Matches, Min } from 'class-validator';
import { STREAM_TYPES } from '../../envelope';

/**
 * `divergence.recorded` v1 (stream id `divergence:<eventId>`): the primary of
 * `fencedInEpoch` refused an event of an older epoch that reached it after its
 * promotion. Every DC moves that event aside (it stays listed by
 * `divergentEvents`) and every consumer skips it.
 */
export class DivergenceRecordedV1 {
  @IsUUID()
  eventId!: string;

  @IsString()
  streamId!: string;

  @IsIn(STREAM_TYPES)
  streamType!: string;

  @IsInt()
  @Min(1)
  version!: number;

  @Matches(/^[a-z][a-z0-9.-]{0,63}$/)
  type!: string;

  @IsString()
  originDc!: string;

  @IsInt()
  @Min(0)
  epoch!: number;

  @IsInt()
  @Min(1)
  fencedInEpoch!: number;
}
