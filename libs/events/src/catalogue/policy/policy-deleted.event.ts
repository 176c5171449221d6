import 'reflect-metadata';
import { IsString } from 'class-validator';

/** `policy.deleted` v1: a throttling tier nothing used any more is gone; its name may be created again. */
export class PolicyDeletedV1 {
  @IsString()
  name!: string;
}
