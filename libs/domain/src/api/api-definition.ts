import { distinct, InputCheck, isHttpUrl, isIntInRange, isNonBlank } from '../shared';

/** Lifecycle of an API (docs/events.md, "Api"). */
export type ApiLifecycle = 'CREATED' | 'PUBLISHED' | 'DEPRECATED' | 'RETIRED' | 'BLOCKED';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export const OPERATION_AUTHS = ['none', 'apikey', 'oauth2'] as const;
export type OperationAuth = (typeof OPERATION_AUTHS)[number];

export const VISIBILITIES = ['public', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** One route of an API: a method (or `*`), a path template such as `/charges/{id}` or `/*`, and how callers authenticate. */
export interface Operation {
  method: HttpMethod;
  path: string;
  auth: OperationAuth;
}

/** Everything `api.created` (v2) says about an API. */
export interface ApiDefinition {
  name: string;
  version: string;
  context: string;
  upstreamUrls: string[];
  upstreamTimeoutMs: number;
  operations: Operation[];
  tiers: string[];
  visibility: Visibility;
  /** A throttling policy for the API as a whole (every caller, per gateway), or null for none. Absent in events before it existed. */
  throttlingPolicy: string | null;
}

/** The fields an update may change: context and version identify the API on the gateway, so they never change. */
export type MutableApiFields = Pick<
  ApiDefinition,
  'name' | 'upstreamUrls' | 'upstreamTimeoutMs' | 'operations' | 'tiers' | 'visibility' | 'throttlingPolicy'
>;

/** Routable states: gateways forward traffic for these. */
export const ROUTABLE_API_STATES: readonly ApiLifecycle[] = ['PUBLISHED', 'DEPRECATED'];

/** Defaults of `CreateApi` (docs/events.md). */
export const DEFAULT_OPERATIONS: readonly Operation[] = [{ method: '*', path: '/*', auth: 'apikey' }];
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
export const DEFAULT_VISIBILITY: Visibility = 'public';

export const API_NAME_MAX_LENGTH = 100;
const CONTEXT = /^(\/[a-z0-9-]{1,64})+$/;
const VERSION = /^[A-Za-z0-9.-]{1,32}$/;
const PATH_SEGMENT = /^[A-Za-z0-9\-._~%:@]+$/;
const PATH_PARAMETER = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** `/` then `/`-separated segments of 1..64 `[a-z0-9-]`, e.g. `/eu/payments`. */
export function isValidContext(context: unknown): boolean {
  return typeof context === 'string' && CONTEXT.test(context);
}

/** 1..32 `[A-Za-z0-9.-]`, e.g. `v1`. */
export function isValidVersion(version: unknown): boolean {
  return typeof version === 'string' && VERSION.test(version);
}

/** `/`, or `/`-separated literal or `{param}` segments, optionally ending in the catch-all `/*`. */
export function isValidOperationPath(path: unknown): boolean {
  if (typeof path !== 'string' || !path.startsWith('/')) return false;
  if (path === '/') return true;
  const segments = path.slice(1).split('/');
  return segments.every(
    (segment, i) => PATH_SEGMENT.test(segment) || PATH_PARAMETER.test(segment) || (segment === '*' && i === segments.length - 1),
  );
}

function isValidOperation(op: Operation | null | undefined): boolean {
  return (
    op != null &&
    (HTTP_METHODS as readonly unknown[]).includes(op.method) &&
    isValidOperationPath(op.path) &&
    (OPERATION_AUTHS as readonly unknown[]).includes(op.auth)
  );
}

/**
 * Validates the mutable fields that are present (an update sends only some of
 * them). `availableTiers` are the throttling policies that exist.
 */
export function checkMutableFields(
  fields: Partial<Readonly<MutableApiFields>>,
  availableTiers: readonly string[],
  check: InputCheck,
): InputCheck {
  const { name, upstreamUrls, upstreamTimeoutMs, operations, tiers, visibility, throttlingPolicy } = fields;
  if (name !== undefined) {
    check.require(isNonBlank(name) && name.trim().length <= API_NAME_MAX_LENGTH, 'name', `must be 1..${API_NAME_MAX_LENGTH} characters`);
  }
  if (upstreamUrls !== undefined) {
    check.require(
      Array.isArray(upstreamUrls) && upstreamUrls.length >= 1 && upstreamUrls.every(isHttpUrl),
      'upstreamUrls',
      'must hold at least one absolute http or https URL',
    );
  }
  if (upstreamTimeoutMs !== undefined) {
    check.require(isIntInRange(upstreamTimeoutMs, 100, 300_000), 'upstreamTimeoutMs', 'must be an integer from 100 to 300000');
  }
  if (operations !== undefined) {
    const valid = Array.isArray(operations) && operations.every(isValidOperation);
    check.require(valid, 'operations', 'each needs a method, a path template starting with "/" and an auth of none, apikey or oauth2');
    if (valid) {
      const routes = operations.map((op) => `${op.method} ${op.path}`);
      check.require(distinct(routes).length === routes.length, 'operations', 'the same method and path appear twice');
    }
  }
  if (tiers !== undefined) {
    const offered = Array.isArray(tiers) && tiers.length >= 1;
    check.require(offered, 'tiers', 'must name at least one tier');
    if (offered) {
      const unknown = tiers.filter((tier) => !availableTiers.includes(tier));
      check.require(unknown.length === 0, 'tiers', `unknown tiers: ${unknown.join(', ')}`);
    }
  }
  if (visibility !== undefined) {
    check.require((VISIBILITIES as readonly unknown[]).includes(visibility), 'visibility', 'must be public or private');
  }
  if (throttlingPolicy !== undefined && throttlingPolicy !== null) {
    check.require(availableTiers.includes(throttlingPolicy), 'throttlingPolicy', `unknown throttling policy: ${throttlingPolicy}`);
  }
  return check;
}

/** Copies the present mutable fields into fresh, normalised values fit for an event. */
export function normaliseMutableFields(fields: Partial<Readonly<MutableApiFields>>): Partial<MutableApiFields> {
  const out: Partial<MutableApiFields> = {};
  if (fields.name !== undefined) out.name = fields.name.trim();
  if (fields.upstreamUrls !== undefined) out.upstreamUrls = [...fields.upstreamUrls];
  if (fields.upstreamTimeoutMs !== undefined) out.upstreamTimeoutMs = fields.upstreamTimeoutMs;
  if (fields.operations !== undefined) out.operations = fields.operations.map(({ method, path, auth }) => ({ method, path, auth }));
  if (fields.tiers !== undefined) out.tiers = distinct(fields.tiers);
  if (fields.visibility !== undefined) out.visibility = fields.visibility;
  if (fields.throttlingPolicy !== undefined) out.throttlingPolicy = fields.throttlingPolicy;
  return out;
}
