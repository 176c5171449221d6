import 'reflect-metadata';
import { IsString, MaxLength, MinLength } from 'class-validator';

/** `application.updated` v1: an application's name and application-level tier as they are after the change (the owner does not change). */
export class ApplicationUpdatedV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @IsString()
  @MinLength(1)
  policy!: string;
}
