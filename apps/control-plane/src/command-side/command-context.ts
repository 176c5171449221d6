import type { Role } from '@apim/domain';

/** The authenticated caller, resolved per request from the access token and the user's own stream. */
export interface AuthUser {
  /** Stream id of the user (`user:<username>`): stable, and what events record as `actor`. */
  userId: string;
  username: string;
  roles: readonly Role[];
}

/** Who asks, and the id that ties the request to every event it causes. */
export interface CommandContext {
  user: AuthUser | null;
  correlationId: string;
}

export function hasRole(user: AuthUser | null, ...roles: Role[]): boolean {
  return !!user && user.roles.some((role) => roles.includes(role));
}
