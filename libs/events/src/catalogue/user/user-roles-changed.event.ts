import 'reflect-metadata';
import { ArrayMinSize, IsArray } from 'class-validator';
import { EachIn } from '../field-rules';
import { USER_ROLES, UserRole } from './user-roles';

/** `user.roles-changed` v1: the user's roles from now on. */
export class UserRolesChangedV1 {
  @IsArray()
  @ArrayMinSize(1)
  @EachIn(USER_ROLES)
  roles!: UserRole[];
}
