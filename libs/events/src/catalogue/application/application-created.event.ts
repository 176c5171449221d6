import 'reflect-metadata';
import { IsString } from 'class-validator';

/** `application.created` v1: a developer's application; `policy` is its application-level tier. */
export class ApplicationCreatedV1 {
  @IsString()
  ownerId!: string;

  @IsString()
  name!: string;

  @IsString()
  policy!: string;
}
