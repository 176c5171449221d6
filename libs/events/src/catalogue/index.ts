import 'reflect-metadata';
import type { EventEnvelope, StreamType } from '../envelope';
import { ApiBlockedV1 } from './api/api-blocked.event';
import { ApiCreatedV1, ApiCreatedV2 } from './api/api-created.event';
import { ApiDeprecatedV1 } from './api/api-deprecated.event';
import { ApiPublishedV1 } from './api/api-published.event';
import { ApiRetiredV1 } from './api/api-retired.event';
import { ApiUnblockedV1 } from './api/api-unblocked.event';
import { ApiUpdatedV1 } from './api/api-updated.event';
import { ApplicationCreatedV1 } from './application/application-created.event';
import { ApplicationDeletedV1 } from './application/application-deleted.event';
import { ApplicationUpdatedV1 } from './application/application-updated.event';
import { ApikeyGeneratedV1 } from './credentials/apikey-generated.event';
import { ApikeyRevokedV1 } from './credentials/apikey-revoked.event';
import { OauthClientRegisteredV1 } from './credentials/oauth-client-registered.event';
import { OauthClientRevokedV1 } from './credentials/oauth-client-revoked.event';
import { SigningKeyRotatedV1 } from './credentials/signing-key-rotated.event';
import { TokenRevokedV1 } from './credentials/token-revoked.event';
import { PolicyCreatedV1 } from './policy/policy-created.event';
import { PolicyDeletedV1 } from './policy/policy-deleted.event';
import { PolicyUpdatedV1 } from './policy/policy-updated.event';
import { DivergenceRecordedV1 } from './divergence/divergence-recorded.event';
import { RegionFencedV1, RegionFencedV2 } from './region/region-fenced.event';
import { RegionPromotedV1 } from './region/region-promoted.event';
import { SubscriptionBlockedV1 } from './subscription/subscription-blocked.event';
import { SubscriptionCreatedV1 } from './subscription/subscription-created.event';
import { SubscriptionRemovedV1 } from './subscription/subscription-removed.event';
import { SubscriptionTierChangedV1 } from './subscription/subscription-tier-changed.event';
import { SubscriptionUnblockedV1 } from './subscription/subscription-unblocked.event';
import { UserRegisteredV1 } from './user/user-registered.event';
import { UserDeactivatedV1, UserReactivatedV1 } from './user/user-deactivated.event';
import { UserPasswordChangedV1 } from './user/user-password-changed.event';
import { UserRolesChangedV1 } from './user/user-roles-changed.event';

export * from './api/api-blocked.event';
export * from './api/api-created.event';
export * from './api/api-deprecated.event';
export * from './api/api-published.event';
export * from './api/api-retired.event';
export * from './api/api-unblocked.event';
export * from './api/api-updated.event';
export * from './api/operation';
export * from './application/application-created.event';
export * from './application/application-deleted.event';
export * from './application/application-updated.event';
export * from './credentials/apikey-generated.event';
export * from './credentials/apikey-revoked.event';
export * from './credentials/oauth-client-registered.event';
export * from './credentials/oauth-client-revoked.event';
export * from './credentials/signing-key-rotated.event';
export * from './credentials/token-revoked.event';
export * from './policy/policy-created.event';
export * from './policy/policy-deleted.event';
export * from './policy/policy-updated.event';
export * from './divergence/divergence-recorded.event';
export * from './region/region-fenced.event';
export * from './region/region-promoted.event';
export * from './subscription/subscription-blocked.event';
export * from './subscription/subscription-created.event';
export * from './subscription/subscription-removed.event';
export * from './subscription/subscription-tier-changed.event';
export * from './subscription/subscription-unblocked.event';
export * from './user/user-registered.event';
export * from './user/user-roles';
export * from './user/user-deactivated.event';
export * from './user/user-password-changed.event';
export * from './user/user-roles-changed.event';
export { isHttpUrl, isIsoDateTime, isOperationPath, SHA256_HEX, API_CONTEXT, API_VERSION } from './field-rules';

/** A payload class: class-validator rules on the fields of one event type at one schema version. */
export type PayloadClass = new () => object;

/** What the catalogue knows of one event type. */
export interface CatalogueEntry {
  /** The kind of stream the type is written to. */
  readonly streamType: StreamType;
  /** The schema version writers use and readers upcast to. */
  readonly current: number;
  /** Every schema version ever written, 1..current. Old ones are never edited. */
  readonly versions: Readonly<Record<number, PayloadClass>>;
}

/**
 * Every event type of docs/events.md. Adding a breaking change means a new
 * class, `current` + 1, and an upcaster in ../upcasters.
 */
export const EVENT_CATALOGUE = {
  'api.created': { streamType: 'api', current: 2, versions: { 1: ApiCreatedV1, 2: ApiCreatedV2 } },
  'api.updated': { streamType: 'api', current: 1, versions: { 1: ApiUpdatedV1 } },
  'api.published': { streamType: 'api', current: 1, versions: { 1: ApiPublishedV1 } },
  'api.deprecated': { streamType: 'api', current: 1, versions: { 1: ApiDeprecatedV1 } },
  'api.retired': { streamType: 'api', current: 1, versions: { 1: ApiRetiredV1 } },
  'api.blocked': { streamType: 'api', current: 1, versions: { 1: ApiBlockedV1 } },
  'api.unblocked': { streamType: 'api', current: 1, versions: { 1: ApiUnblockedV1 } },
  'policy.created': { streamType: 'policy', current: 1, versions: { 1: PolicyCreatedV1 } },
  'policy.updated': { streamType: 'policy', current: 1, versions: { 1: PolicyUpdatedV1 } },
  'policy.deleted': { streamType: 'policy', current: 1, versions: { 1: PolicyDeletedV1 } },
  'application.created': { streamType: 'application', current: 1, versions: { 1: ApplicationCreatedV1 } },
  'application.updated': { streamType: 'application', current: 1, versions: { 1: ApplicationUpdatedV1 } },
  'application.deleted': { streamType: 'application', current: 1, versions: { 1: ApplicationDeletedV1 } },
  'subscription.created': { streamType: 'subscription', current: 1, versions: { 1: SubscriptionCreatedV1 } },
  'subscription.blocked': { streamType: 'subscription', current: 1, versions: { 1: SubscriptionBlockedV1 } },
  'subscription.unblocked': { streamType: 'subscription', current: 1, versions: { 1: SubscriptionUnblockedV1 } },
  'subscription.removed': { streamType: 'subscription', current: 1, versions: { 1: SubscriptionRemovedV1 } },
  'subscription.tier-changed': { streamType: 'subscription', current: 1, versions: { 1: SubscriptionTierChangedV1 } },
  'apikey.generated': { streamType: 'apikey', current: 1, versions: { 1: ApikeyGeneratedV1 } },
  'apikey.revoked': { streamType: 'apikey', current: 1, versions: { 1: ApikeyRevokedV1 } },
  'oauth-client.registered': { streamType: 'oauth-client', current: 1, versions: { 1: OauthClientRegisteredV1 } },
  'oauth-client.revoked': { streamType: 'oauth-client', current: 1, versions: { 1: OauthClientRevokedV1 } },
  'token.revoked': { streamType: 'token', current: 1, versions: { 1: TokenRevokedV1 } },
  'signing-key.rotated': { streamType: 'signing-key', current: 1, versions: { 1: SigningKeyRotatedV1 } },
  'user.registered': { streamType: 'user', current: 1, versions: { 1: UserRegisteredV1 } },
  'user.roles-changed': { streamType: 'user', current: 1, versions: { 1: UserRolesChangedV1 } },
  'user.password-changed': { streamType: 'user', current: 1, versions: { 1: UserPasswordChangedV1 } },
  'user.deactivated': { streamType: 'user', current: 1, versions: { 1: UserDeactivatedV1 } },
  'user.reactivated': { streamType: 'user', current: 1, versions: { 1: UserReactivatedV1 } },
  'region.promoted': { streamType: 'region', current: 1, versions: { 1: RegionPromotedV1 } },
  'region.fenced': { streamType: 'region', current: 2, versions: { 1: RegionFencedV1, 2: RegionFencedV2 } },
  'divergence.recorded': { streamType: 'divergence', current: 1, versions: { 1: DivergenceRecordedV1 } },
} as const satisfies Record<string, CatalogueEntry>;

type Catalogue = typeof EVENT_CATALOGUE;

/** The name of an event type of the catalogue, e.g. `'api.published'`. */
export type EventType = keyof Catalogue;

/** Every event type, in catalogue order. */
export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[];

/** The payload of `K` at its current schema version: what decoding returns. */
export type CurrentPayload<K extends EventType> = CurrentPayloads[K];

type CurrentPayloads = {
  [K in EventType]: Catalogue[K] extends { current: infer C; versions: infer V }
    ? C extends keyof V
      ? V[C] extends new () => infer P
        ? P
        : never
      : never
    : never;
};

/** Whether `type` names an event type of the catalogue (own keys only: `'constructor'` is not an event type). */
export function isEventType(type: unknown): type is EventType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(EVENT_CATALOGUE, type);
}

/** The catalogue entry of `type`, or undefined for a type the catalogue does not know. */
export function catalogueEntry(type: string): CatalogueEntry | undefined {
  return isEventType(type) ? EVENT_CATALOGUE[type] : undefined;
}

/** The payload class of `type` at `schemaVersion`, or undefined when either is unknown. */
export function payloadClass(type: string, schemaVersion: number): PayloadClass | undefined {
  const entry = catalogueEntry(type);
  if (!entry || !Object.prototype.hasOwnProperty.call(entry.versions, schemaVersion)) return undefined;
  return entry.versions[schemaVersion];
}

/** Narrows a decoded envelope to one event type, typing its (current-version) payload. */
export function isEventOf<K extends EventType>(envelope: EventEnvelope, type: K): envelope is EventEnvelope<CurrentPayload<K>> {
  return envelope.type === type && envelope.schemaVersion === EVENT_CATALOGUE[type].current;
}
