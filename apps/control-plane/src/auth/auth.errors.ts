/** A request refused for who sent it (GraphQL `UNAUTHENTICATED` or `FORBIDDEN`). */
export class AuthError extends Error {
  constructor(
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Too many failed logins for one username (GraphQL `LOGIN_RATE_LIMITED`). */
export class LoginRateLimitedError extends Error {
  readonly code = 'LOGIN_RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many failed logins for this user; retry in ${retryAfterSeconds} s`);
    this.name = 'LoginRateLimitedError';
  }
}
