import { ValidationError, ValidationPipe } from '@nestjs/common';

/** Invalid input, naming each field at fault (GraphQL `BAD_USER_INPUT`). */
export class InputError extends Error {
  constructor(
    message: string,
    readonly fields: string[],
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** Validates every GraphQL input with its class-validator rules before a resolver runs. */
export function inputValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    forbidUnknownValues: false,
    exceptionFactory: (errors: ValidationError[]) => {
      const problems = flatten(errors);
      return new InputError(
        problems.map((p) => `${p.field}: ${p.reasons.join('; ')}`).join('. '),
        problems.map((p) => p.field),
      );
    },
  });
}

function flatten(errors: ValidationError[], prefix = ''): { field: string; reasons: string[] }[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, reasons: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
