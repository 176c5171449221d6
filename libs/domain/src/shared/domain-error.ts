/** How an error reaches a client; the GraphQL layer maps it to `extensions.code`. */
export type DomainErrorKind = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN';

/**
 * A refused command. `code` is stable (e.g. `API.CONTEXT_TAKEN`) so clients and
 * tests can rely on it; `fields` names the input fields at fault, if any.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: string,
    readonly kind: DomainErrorKind,
    message: string,
    readonly fields: readonly string[] = [],
  ) {
    super(message);
  }

  static badInput(code: string, message: string, fields: readonly string[]): DomainError {
    return new DomainError(code, 'BAD_USER_INPUT', message, fields);
  }

  static notFound(code: string, message: string): DomainError {
    return new DomainError(code, 'NOT_FOUND', message);
  }

  static conflict(code: string, message: string, fields: readonly string[] = []): DomainError {
    return new DomainError(code, 'CONFLICT', message, fields);
  }

  static forbidden(code: string, message: string): DomainError {
    return new DomainError(code, 'FORBIDDEN', message);
  }
}
