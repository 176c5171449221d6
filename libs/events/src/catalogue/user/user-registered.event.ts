import 'reflect-metadata';
import { ArrayMinSize, IsArray, IsString, Matches } from 'class-validator';
import { EachIn } from '../field-rules';
import { USER_ROLES, UserRole } from './user-roles';

/** `scrypt$N$r$p$salt$hash`: the only form a password takes in an event. A plain password fails it. */
export const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[^$\s]+\$[^$\s]+$/;

/** `user.registered` v1 (stream id `user:<lower username>`). */
export class UserRegisteredV1 {
  @IsString()
  username!: string;

  @Matches(SCRYPT_HASH, { message: '$property must be an scrypt hash (scrypt$N$r$p$salt$hash)' })
  passwordHash!: string;

  @IsArray()
  @ArrayMinSize(1)
  @EachIn(USER_ROLES)
  roles!: UserRole[];
}
