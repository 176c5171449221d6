import 'reflect-metadata';
import { IsInt, IsString, Min } from 'class-validator';

/** `region.fenced` v1 (stream id `region`): switchover; `dc` stops taking writes in `epoch`. */
export class RegionFencedV1 {
  @IsString()
  dc!: string;

  /** An epoch, hence >= 0 like the envelope's (the catalogue says only "int"). */
  @IsInt()
  @Min(0)
  epoch!: number;
}
