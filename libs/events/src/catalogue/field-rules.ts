import 'reflect-metadata';
import { Matches, registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

/*
 * The field types of docs/events.md ("url", "iso", "sha256", ...) as
 * class-validator decorators. Every message names a field and a rule, never a
 * value: payloads carry hashes, and reasons end up in logs and in the DLQ.
 *
 * Message convention, read by the codec's reason formatter: a message starts
 * with the property name, optionally followed by an index (`upstreamUrls[2]`),
 * then a space and the rule.
 */

/** An absolute http or https URL with a host: what a gateway can forward to. Same rule as libs/domain's isHttpUrl. */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with an explicit offset (`Z` or `±hh:mm`); a bare local time would mean different instants per DC. */
export function isIsoDateTime(value: unknown): value is string {
  return typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `/` then `/`-separated segments of 1..64 `[a-z0-9-]`, e.g. `/eu/payments`. */
export const API_CONTEXT = /^(\/[a-z0-9-]{1,64})+$/;

/** 1..32 `[A-Za-z0-9.-]`, e.g. `v1`. */
export const API_VERSION = /^[A-Za-z0-9.-]{1,32}$/;

const PATH_SEGMENT = /^[A-Za-z0-9\-._~%:@]+$/;
const PATH_PARAMETER = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** `/`, or `/`-separated literal or `{param}` segments, optionally ending in the catch-all `/*` (libs/domain's rule). */
export function isOperationPath(value: unknown): value is string {
  if (typeof value !== 'string' || !value.startsWith('/')) return false;
  if (value === '/') return true;
  const segments = value.slice(1).split('/');
  return segments.every(
    (segment, i) => PATH_SEGMENT.test(segment) || PATH_PARAMETER.test(segment) || (segment === '*' && i === segments.length - 1),
  );
}

/** A scalar rule: `check` on the property's value, reported as `<property> <rule>`. */
export function Satisfies(name: string, check: (value: unknown) => boolean, rule: string, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => check(value),
        defaultMessage: (args?: ValidationArguments) => `${args?.property} ${rule}`,
      },
    });
}

/**
 * An array whose every item passes `check`. Reported on the first bad item,
 * with its index (`upstreamUrls[1] must be a URL address`); a non-array is
 * reported as such. Use with @IsArray() for the array rule itself.
 */
export function EachItem(name: string, check: (item: unknown) => boolean, rule: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => Array.isArray(value) && value.every((item) => check(item)),
        defaultMessage: (args?: ValidationArguments) => {
          const value = args?.value;
          if (!Array.isArray(value)) return `${args?.property} must be an array`;
          return `${args?.property}[${value.findIndex((item) => !check(item))}] ${rule}`;
        },
      },
    });
}

/** `url`: http or https only. */
export const IsHttpUrl = (): PropertyDecorator => Satisfies('isHttpUrl', isHttpUrl, 'must be a URL address');

/** `url[]`. */
export const EachHttpUrl = (): PropertyDecorator => EachItem('eachHttpUrl', isHttpUrl, 'must be a URL address');

/** `string[]`. */
export const EachString = (): PropertyDecorator => EachItem('eachString', (item) => typeof item === 'string', 'must be a string');

/** `('A' | 'B')[]`. */
export const EachIn = (values: readonly string[]): PropertyDecorator =>
  EachItem('eachIn', (item) => values.includes(item as string), `must be one of ${values.join(', ')}`);

/** `iso`: an ISO-8601 date-time with an offset. */
export const IsIsoDateTime = (): PropertyDecorator =>
  Satisfies('isIsoDateTime', isIsoDateTime, 'must be an ISO-8601 date-time with an offset');

/** `sha256`: 64 lowercase hex characters. */
export const IsSha256 = (): PropertyDecorator =>
  Matches(SHA256_HEX, { message: '$property must be a sha256 digest (64 lowercase hex characters)' });

/** An API context path prefix (docs/events.md, "Api"). */
export const IsApiContext = (): PropertyDecorator =>
  Matches(API_CONTEXT, { message: '$property must be / followed by /-separated segments of 1..64 [a-z0-9-]' });

/** An API version label (docs/events.md, "Api"). */
export const IsApiVersion = (): PropertyDecorator => Matches(API_VERSION, { message: '$property must be 1..32 of [A-Za-z0-9.-]' });

/** An operation path template such as `/charges/{id}` or `/*`. */
export const IsOperationPath = (): PropertyDecorator =>
  Satisfies(
    'isOperationPath',
    isOperationPath,
    'must be a path template starting with / (literal or {param} segments, optionally ending in /*)',
  );

/**
 * The property that carries a payload-level rule (one that is about no single
 * field). The codec reports it as `payload`. A payload that sends this key is
 * refused by the same rule, so naming it here opens no hole in the whitelist.
 */
export const WHOLE_PAYLOAD = '(payload)';

/** Class rule: at least one of `fields` is present (e.g. `api.updated`). */
export function AtLeastOneOf(fields: readonly string[]): ClassDecorator {
  return (target) =>
    registerDecorator({
      name: 'atLeastOneOf',
      target,
      propertyName: WHOLE_PAYLOAD,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          const object = (args?.object ?? {}) as Record<string, unknown>;
          return value === undefined && fields.some((field) => object[field] !== undefined);
        },
        defaultMessage: () => `${WHOLE_PAYLOAD} must contain at least one of ${fields.join(', ')}`,
      },
    });
}
