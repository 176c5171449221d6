import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { WHOLE_PAYLOAD } from './field-rules';
import { payloadClass } from './index';

/** At most this many problems are spelled out in one reason; the rest are counted. */
const MAX_PROBLEMS = 8;

/**
 * Checks `payload` against the class of `type` at `schemaVersion`: every rule
 * of docs/events.md, and no property the class does not declare (at any depth).
 * Returns the problems as `payload.<path>: <rule>` lines, empty when valid.
 * A problem names fields and rules only, never a value.
 */
export function validatePayload(type: string, schemaVersion: number, payload: unknown): string[] {
  const schema = payloadClass(type, schemaVersion);
  if (!schema) return [`payload: no schema for '${type}' v${schemaVersion}`];
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return ['payload: must be a JSON object'];
  if (hasProtoKey(payload)) return ['payload: must not contain a __proto__ key'];
  const instance = plainToInstance(schema, payload, { enableImplicitConversion: false });
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
    validationError: { target: false, value: true },
  });
  return describe(errors, 'payload', payload);
}

/** Joins problems into one reason, capped so that a reason stays a line. */
export function joinProblems(problems: string[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS).join('; ');
  return problems.length > MAX_PROBLEMS ? `${shown}; and ${problems.length - MAX_PROBLEMS} more` : shown;
}

function describe(errors: ValidationError[], base: string, parentValue: unknown): string[] {
  const problems: string[] = [];
  for (const error of errors) {
    const path = error.property === WHOLE_PAYLOAD ? base : childPath(base, error.property, parentValue);
    // Decorators register bottom-up, so the last failed constraint is the rule written first
    // (the type check: "must be an integer" rather than "must not be greater than").
    const failed = Object.entries(error.constraints ?? {});
    if (failed.length > 0) {
      const [constraint, message] = failed[failed.length - 1];
      problems.push(problem(path, error.property, constraint, message));
    }
    if (error.children?.length) problems.push(...describe(error.children, path, error.value));
  }
  return problems;
}

function childPath(base: string, property: string, parentValue: unknown): string {
  if (Array.isArray(parentValue) && /^\d+$/.test(property)) return `${base}[${property}]`;
  return `${base}.${fieldName(property)}`;
}

/** A property name as it may appear in a reason: unknown keys come from the record, so odd ones are not echoed. */
function fieldName(property: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(property) ? property : '<unnamed>';
}

/**
 * Turns one class-validator constraint into `path: rule`. Messages start with
 * the property name, optionally an index, then the rule (see field-rules.ts);
 * anything else is reported by constraint name alone, so that no message
 * template can leak a value.
 */
function problem(path: string, property: string, constraint: string, message: string): string {
  if (constraint === 'whitelistValidation') return `${path}: is not allowed`;
  if (constraint === 'nestedValidation') return `${path}: must be an object`;
  if (message.startsWith(property)) {
    const parts = /^((?:\[\d+\])*) (.+)$/s.exec(message.slice(property.length));
    if (parts) return `${path}${parts[1]}: ${parts[2]}`;
  }
  return `${path}: fails ${constraint}`;
}

/** JSON.parse keeps `__proto__` as an own key; refuse it rather than let a copy turn it into a prototype. */
function hasProtoKey(root: object): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (value === null || typeof value !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
    pending.push(...Object.values(value));
  }
  return false;
}
