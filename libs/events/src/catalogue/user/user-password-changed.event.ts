import 'reflect-metadata';
import { Matches } from 'class-validator';
import { SCRYPT_HASH } from './user-registered.event';

/** `user.password-changed` v1: the user's new password, as its scrypt hash (never the password). */
export class UserPasswordChangedV1 {
  @Matches(SCRYPT_HASH, { message: '$property must be an scrypt hash (scrypt$N$r$p$salt$hash)' })
  passwordHash!: string;
}
