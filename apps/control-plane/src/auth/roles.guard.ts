import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Role } from '@apim/domain';
import type { GraphQLRequestContext } from '../graphql/request-context';
import { AuthError } from './auth.errors';

const ROLES = 'apim:roles';

/** Any signed-in user with one of `roles` (none given: any signed-in user). */
export function Authorized(...roles: Role[]) {
  return applyDecorators(SetMetadata(ROLES, roles), UseGuards(RolesGuard));
}

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[]>(ROLES, [execution.getHandler(), execution.getClass()]) ?? [];
    const { user, authProblem } = GqlExecutionContext.create(execution).getContext<GraphQLRequestContext>();
    if (!user) throw new AuthError('UNAUTHENTICATED', authProblem ?? 'Sign in first: send Authorization: Bearer <accessToken from login>');
    if (roles.length > 0 && !user.roles.some((role) => roles.includes(role)))
      throw new AuthError('FORBIDDEN', `This needs one of the roles ${roles.join(', ')}`);
    return true;
  }
}
