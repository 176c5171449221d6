import { catalogueEntry } from '../catalogue';
import { apiCreatedV1ToV2 } from './api-created.upcaster';
import { regionFencedV1ToV2 } from './region-fenced.upcaster';

export * from './api-created.upcaster';
export * from './region-fenced.upcaster';

/** Turns a payload of schema version N into one of N+1. Pure; never mutates its input. */
export type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

/**
 * Upcasters by event type, then by the version they read. A type at current
 * version C with versions 1..C needs one for each of 1..C-1 (a test checks).
 */
export const UPCASTERS: Readonly<Record<string, Readonly<Record<number, Upcaster>>>> = {
  'api.created': { 1: apiCreatedV1ToV2 },
  'region.fenced': { 1: regionFencedV1ToV2 },
};

/** Raised when a payload cannot be brought to the current version: unknown type or version, or a missing step. */
export class UpcastError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpcastError';
  }
}

/**
 * Applies the chain of upcasters from `schemaVersion` to the current version
 * of `type`. A payload already current is returned as it is. The payload is
 * assumed valid at `schemaVersion` (the codec checks it first).
 * @throws UpcastError for an unknown type, an unknown version or a missing upcaster.
 */
export function upcast(type: string, schemaVersion: number, payload: unknown): { schemaVersion: number; payload: unknown } {
  const entry = catalogueEntry(type);
  if (!entry) throw new UpcastError(`unknown event type '${type}'`);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > entry.current) {
    throw new UpcastError(`'${type}' has no schemaVersion ${schemaVersion} (current is ${entry.current})`);
  }
  let version = schemaVersion;
  let current = payload;
  while (version < entry.current) {
    const step = UPCASTERS[type]?.[version];
    if (!step) throw new UpcastError(`no upcaster for '${type}' from schemaVersion ${version}`);
    if (current === null || typeof current !== 'object' || Array.isArray(current)) {
      throw new UpcastError(`'${type}' v${version} payload is not an object`);
    }
    current = step(current as Record<string, unknown>);
    version++;
  }
  return { schemaVersion: version, payload: current };
}

/**
 * For events read back from this DC's own store, which were checked when
 * written: upcasts like `upcast`, but leaves an event of a type or version this
 * build does not know as it is (a projection skips types it does not handle)
 * instead of throwing.
 */
export function upcastStoredPayload(type: string, schemaVersion: number, payload: unknown): { schemaVersion: number; payload: unknown } {
  const entry = catalogueEntry(type);
  if (!entry || !Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > entry.current) return { schemaVersion, payload };
  return upcast(type, schemaVersion, payload);
}
