import { DomainError } from './domain-error';

/**
 * Collects every invalid field of a command before throwing, so that a client
 * learns about all its mistakes in one round-trip rather than one at a time.
 */
export class InputCheck {
  private readonly problems: { field: string; message: string }[] = [];

  /** Records `message` against `field` unless `ok`. */
  require(ok: boolean, field: string, message: string): this {
    if (!ok) this.problems.push({ field, message });
    return this;
  }

  /** Throws one BAD_USER_INPUT DomainError with `code` naming every field at fault. */
  throwIfAny(code: string): void {
    if (this.problems.length === 0) return;
    const fields = [...new Set(this.problems.map((p) => p.field))];
    throw DomainError.badInput(code, this.problems.map((p) => `${p.field}: ${p.message}`).join('; '), fields);
  }
}

/** A string with something other than whitespace in it. */
export function isNonBlank(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

export function isIntInRange(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** An absolute http or https URL with a host (the only kinds a gateway can forward to). */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with an explicit offset; a bare local time would mean different instants per DC. */
export function isIsoDateTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

/** 64 lowercase hex characters, the form every stored hash takes. */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** Removes repeats, keeping the first occurrence's position. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
