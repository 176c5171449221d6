import 'reflect-metadata';
import { IsBoolean, IsInt, IsString, Min } from 'class-validator';

/** `policy.created` v1: a throttling tier exists. `requestsPerMinute` is ignored when `unlimited`, but still an int >= 1. */
export class PolicyCreatedV1 {
  @IsString()
  name!: string;

  @IsInt()
  @Min(1)
  requestsPerMinute!: number;

  @IsInt()
  @Min(0)
  burst!: number;

  @IsBoolean()
  unlimited!: boolean;
}
