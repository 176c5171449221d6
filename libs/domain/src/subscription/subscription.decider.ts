import { ApiLifecycle } from '../api/api-definition';
import { Decider, DomainError, InputCheck, isNonBlank, Message, NoData, unreachable } from '../shared';
import { Role } from '../user/user.decider';

/** `subscription.created` v1 payload. */
export interface SubscriptionCreatedData {
  applicationId: string;
  apiId: string;
  tier: string;
}

/** Who issues a command; ADMIN may act on any application, others on their own only. */
export interface Actor {
  userId: string;
  roles: readonly Role[];
}

/**
 * Subscribes an application to an API on a tier. The handler loads `api` (its
 * lifecycle state and offered tiers) and `application` (its owner) from read
 * models; `actor` is the authenticated user.
 */
export interface SubscribeData {
  applicationId: string;
  apiId: string;
  tier: string;
  api: { state: ApiLifecycle; tiers: readonly string[] };
  application: { ownerId: string };
  actor: Actor;
}

/**
 * Moves a subscription to another tier its API offers: only the
 * application's owner (or an ADMIN) may, while the subscription is ACTIVE or
 * BLOCKED (a block stays) and the API is not RETIRED. The handler loads `api`
 * and `application` as for Subscribe.
 */
export interface ChangeTierData {
  tier: string;
  api: { state: ApiLifecycle; tiers: readonly string[] };
  application: { ownerId: string };
  actor: Actor;
}

/** `subscription.tier-changed` v1 payload: the new tier. */
export interface SubscriptionTierChangedData {
  tier: string;
}

/** Ends a subscription; only the application's owner (or an ADMIN) may. */
export interface UnsubscribeData {
  application: { ownerId: string };
  actor: Actor;
}

export type SubscriptionCommand =
  | Message<'Subscribe', SubscribeData>
  | Message<'BlockSubscription', NoData>
  | Message<'UnblockSubscription', NoData>
  | Message<'Unsubscribe', UnsubscribeData>
  | Message<'ChangeSubscriptionTier', ChangeTierData>;

export type SubscriptionEvent =
  | Message<'subscription.created', SubscriptionCreatedData>
  | Message<'subscription.blocked', NoData>
  | Message<'subscription.unblocked', NoData>
  | Message<'subscription.removed', NoData>
  | Message<'subscription.tier-changed', SubscriptionTierChangedData>;

export type SubscriptionStatus = 'ACTIVE' | 'BLOCKED' | 'REMOVED';
export type SubscriptionState = { status: 'EMPTY' } | (SubscriptionCreatedData & { status: SubscriptionStatus });

/** Stream id of a subscription: `sub:<applicationId>:<apiId>`, so an application holds at most one per API. */
export function subscriptionStreamId(applicationId: string, apiId: string): string {
  return `sub:${applicationId}:${apiId}`;
}

export function initialState(): SubscriptionState {
  return { status: 'EMPTY' };
}

export function decide(command: SubscriptionCommand, state: SubscriptionState): SubscriptionEvent[] {
  if (command.type === 'Subscribe') return subscribe(command.data, state);
  if (state.status === 'EMPTY') throw DomainError.notFound('SUBSCRIPTION.NOT_FOUND', 'No such subscription');
  switch (command.type) {
    case 'BlockSubscription':
      return [transition(state.status, ['ACTIVE'], 'subscription.blocked', 'block')];
    case 'UnblockSubscription':
      return [transition(state.status, ['BLOCKED'], 'subscription.unblocked', 'unblock')];
    case 'Unsubscribe':
      assertMayActFor(command.data.application, command.data.actor);
      return [transition(state.status, ['ACTIVE', 'BLOCKED'], 'subscription.removed', 'remove')];
    case 'ChangeSubscriptionTier':
      return changeTier(command.data, state);
    default:
      return unreachable(command);
  }
}

function subscribe(data: SubscribeData, state: SubscriptionState): SubscriptionEvent[] {
  new InputCheck()
    .require(isNonBlank(data.applicationId), 'applicationId', 'is required')
    .require(isNonBlank(data.apiId), 'apiId', 'is required')
    .require(isNonBlank(data.tier), 'tier', 'is required')
    .throwIfAny('SUBSCRIPTION.INVALID_INPUT');
  assertMayActFor(data.application, data.actor);
  // A BLOCKED subscription counts as taken: subscribing again must not lift a block.
  if (state.status === 'ACTIVE' || state.status === 'BLOCKED') {
    throw DomainError.conflict('SUBSCRIPTION.ALREADY_ACTIVE', `This application is already subscribed (${state.status})`);
  }
  if (data.api.state !== 'PUBLISHED') {
    throw DomainError.conflict('SUBSCRIPTION.API_NOT_SUBSCRIBABLE', `An API in state ${data.api.state} takes no new subscriptions`);
  }
  if (!data.api.tiers.includes(data.tier)) {
    throw DomainError.badInput('SUBSCRIPTION.TIER_NOT_OFFERED', `This API does not offer the tier ${data.tier}`, ['tier']);
  }
  return [{ type: 'subscription.created', data: { applicationId: data.applicationId, apiId: data.apiId, tier: data.tier } }];
}

function changeTier(data: ChangeTierData, state: Exclude<SubscriptionState, { status: 'EMPTY' }>): SubscriptionEvent[] {
  new InputCheck().require(isNonBlank(data.tier), 'tier', 'is required').throwIfAny('SUBSCRIPTION.INVALID_INPUT');
  assertMayActFor(data.application, data.actor);
  if (state.status === 'REMOVED')
    throw DomainError.conflict('SUBSCRIPTION.INVALID_TRANSITION', 'Cannot change the tier of a subscription in state REMOVED');
  if (data.api.state === 'RETIRED') throw DomainError.conflict('SUBSCRIPTION.API_RETIRED', 'This API is retired');
  if (!data.api.tiers.includes(data.tier)) {
    throw DomainError.badInput('SUBSCRIPTION.TIER_NOT_OFFERED', `This API does not offer the tier ${data.tier}`, ['tier']);
  }
  return data.tier === state.tier ? [] : [{ type: 'subscription.tier-changed', data: { tier: data.tier } }];
}

function assertMayActFor(application: { ownerId: string }, actor: Actor): void {
  if (actor.userId !== application.ownerId && !actor.roles.includes('ADMIN')) {
    throw DomainError.forbidden('SUBSCRIPTION.NOT_APPLICATION_OWNER', 'Only the owner of the application may do this');
  }
}

function transition(
  status: SubscriptionStatus,
  from: readonly SubscriptionStatus[],
  emits: 'subscription.blocked' | 'subscription.unblocked' | 'subscription.removed',
  verb: string,
): SubscriptionEvent {
  if (!from.includes(status))
    throw DomainError.conflict('SUBSCRIPTION.INVALID_TRANSITION', `Cannot ${verb} a subscription in state ${status}`);
  return { type: emits, data: {} };
}

export function evolve(state: SubscriptionState, event: SubscriptionEvent): SubscriptionState {
  switch (event.type) {
    case 'subscription.created':
      return { ...event.data, status: 'ACTIVE' };
    case 'subscription.blocked':
      return withStatus(state, 'BLOCKED');
    case 'subscription.unblocked':
      return withStatus(state, 'ACTIVE');
    case 'subscription.removed':
      return withStatus(state, 'REMOVED');
    case 'subscription.tier-changed':
      return state.status === 'EMPTY' ? state : { ...state, tier: event.data.tier };
    default:
      return unreachable(event);
  }
}

function withStatus(state: SubscriptionState, status: SubscriptionStatus): SubscriptionState {
  return state.status === 'EMPTY' ? state : { ...state, status };
}

/** The Subscription aggregate (streamType `subscription`, stream id `subscriptionStreamId(applicationId, apiId)`). */
export const subscriptionDecider: Decider<SubscriptionCommand, SubscriptionEvent, SubscriptionState> = { decide, evolve, initialState };
