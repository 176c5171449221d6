import { ApiLifecycle } from '../api/api-definition';
import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import {
  Actor,
  ChangeTierData,
  SubscribeData,
  SubscriptionCommand,
  subscriptionDecider,
  SubscriptionEvent,
  subscriptionStreamId,
} from './subscription.decider';

const owner: Actor = { userId: 'dev-1', roles: ['DEVELOPER'] };
const subscribe = (overrides: Partial<SubscribeData> = {}): SubscriptionCommand => ({
  type: 'Subscribe',
  data: {
    applicationId: 'app-1',
    apiId: 'api-1',
    tier: 'Gold',
    api: { state: 'PUBLISHED', tiers: ['Bronze', 'Gold'] },
    application: { ownerId: 'dev-1' },
    actor: owner,
    ...overrides,
  },
});
const block: SubscriptionCommand = { type: 'BlockSubscription', data: {} };
const unblock: SubscriptionCommand = { type: 'UnblockSubscription', data: {} };
const unsubscribe = (actor: Actor = owner): SubscriptionCommand => ({
  type: 'Unsubscribe',
  data: { application: { ownerId: 'dev-1' }, actor },
});

const changeTier = (overrides: Partial<ChangeTierData> = {}): SubscriptionCommand => ({
  type: 'ChangeSubscriptionTier',
  data: {
    tier: 'Bronze',
    api: { state: 'PUBLISHED', tiers: ['Bronze', 'Gold'] },
    application: { ownerId: 'dev-1' },
    actor: owner,
    ...overrides,
  },
});

const created: SubscriptionEvent = { type: 'subscription.created', data: { applicationId: 'app-1', apiId: 'api-1', tier: 'Gold' } };
const blocked: SubscriptionEvent = { type: 'subscription.blocked', data: {} };
const unblocked: SubscriptionEvent = { type: 'subscription.unblocked', data: {} };
const removed: SubscriptionEvent = { type: 'subscription.removed', data: {} };

const ACTIVE = [created];
const BLOCKED = [created, blocked];
const REMOVED = [created, removed];

describe('Subscribe', () => {
  it('subscribes an application to a PUBLISHED API on a tier it offers', () => {
    given(subscriptionDecider, []).when(subscribe()).then([created]);
  });

  it('subscribes again after a REMOVED subscription', () => {
    given(subscriptionDecider, REMOVED).when(subscribe()).then([created]);
  });

  it('lets an ADMIN subscribe an application owned by someone else', () => {
    given(subscriptionDecider, [])
      .when(subscribe({ actor: { userId: 'root', roles: ['ADMIN'] } }))
      .then([created]);
  });

  it.each(['CREATED', 'DEPRECATED', 'BLOCKED', 'RETIRED'] as ApiLifecycle[])('refuses a subscription to a %s API', (state) => {
    const error = given(subscriptionDecider, [])
      .when(subscribe({ api: { state, tiers: ['Gold'] } }))
      .thenThrows('SUBSCRIPTION.API_NOT_SUBSCRIBABLE');
    expect(error.kind).toBe('CONFLICT');
  });

  it('refuses a tier the API does not offer, naming the tier', () => {
    const error = given(subscriptionDecider, [])
      .when(subscribe({ tier: 'Silver' }))
      .thenThrows('SUBSCRIPTION.TIER_NOT_OFFERED', ['tier']);
    expect(error.kind).toBe('BAD_USER_INPUT');
  });

  it('refuses a second subscription while one is ACTIVE', () => {
    given(subscriptionDecider, ACTIVE).when(subscribe()).thenThrows('SUBSCRIPTION.ALREADY_ACTIVE');
  });

  it('refuses to subscribe again while BLOCKED, so that a block cannot be lifted that way', () => {
    given(subscriptionDecider, BLOCKED).when(subscribe()).thenThrows('SUBSCRIPTION.ALREADY_ACTIVE');
  });

  it('refuses to subscribe an application the actor does not own', () => {
    const error = given(subscriptionDecider, [])
      .when(subscribe({ actor: { userId: 'dev-2', roles: ['DEVELOPER', 'PUBLISHER'] } }))
      .thenThrows('SUBSCRIPTION.NOT_APPLICATION_OWNER');
    expect(error.kind).toBe('FORBIDDEN');
  });

  it('refuses missing ids and tier, naming them', () => {
    given(subscriptionDecider, [])
      .when(subscribe({ applicationId: '', apiId: ' ', tier: '' }))
      .thenThrows('SUBSCRIPTION.INVALID_INPUT', ['applicationId', 'apiId', 'tier']);
  });
});

describe('Subscription lifecycle', () => {
  it('blocks an ACTIVE subscription', () => {
    given(subscriptionDecider, ACTIVE).when(block).then([blocked]);
  });

  it('refuses to block a BLOCKED subscription', () => {
    given(subscriptionDecider, BLOCKED).when(block).thenThrows('SUBSCRIPTION.INVALID_TRANSITION');
  });

  it('refuses to block a REMOVED subscription', () => {
    given(subscriptionDecider, REMOVED).when(block).thenThrows('SUBSCRIPTION.INVALID_TRANSITION');
  });

  it('unblocks a BLOCKED subscription', () => {
    given(subscriptionDecider, BLOCKED).when(unblock).then([unblocked]);
  });

  it('refuses to unblock an ACTIVE subscription', () => {
    given(subscriptionDecider, ACTIVE).when(unblock).thenThrows('SUBSCRIPTION.INVALID_TRANSITION');
  });

  it('refuses to unblock a REMOVED subscription', () => {
    given(subscriptionDecider, REMOVED).when(unblock).thenThrows('SUBSCRIPTION.INVALID_TRANSITION');
  });

  it('removes an ACTIVE subscription', () => {
    given(subscriptionDecider, ACTIVE).when(unsubscribe()).then([removed]);
  });

  it('removes a BLOCKED subscription', () => {
    given(subscriptionDecider, BLOCKED).when(unsubscribe()).then([removed]);
  });

  it('refuses to remove a REMOVED subscription', () => {
    given(subscriptionDecider, REMOVED).when(unsubscribe()).thenThrows('SUBSCRIPTION.INVALID_TRANSITION');
  });

  it('refuses to remove a subscription of an application the actor does not own', () => {
    given(subscriptionDecider, ACTIVE)
      .when(unsubscribe({ userId: 'dev-2', roles: ['DEVELOPER'] }))
      .thenThrows('SUBSCRIPTION.NOT_APPLICATION_OWNER');
  });

  it('lets an ADMIN remove any subscription', () => {
    given(subscriptionDecider, ACTIVE)
      .when(unsubscribe({ userId: 'root', roles: ['ADMIN'] }))
      .then([removed]);
  });

  it.each([
    ['block', block],
    ['unblock', unblock],
    ['remove', unsubscribe()],
  ])('refuses to %s a subscription that does not exist', (_verb, command) => {
    const error = given(subscriptionDecider, []).when(command).thenThrows('SUBSCRIPTION.NOT_FOUND');
    expect(error.kind).toBe('NOT_FOUND');
  });
});

describe('ChangeSubscriptionTier', () => {
  const toBronze: SubscriptionEvent = { type: 'subscription.tier-changed', data: { tier: 'Bronze' } };

  it('moves an ACTIVE subscription to another tier the API offers', () => {
    given(subscriptionDecider, ACTIVE).when(changeTier()).then([toBronze]);
  });

  it('moves a BLOCKED one too, and the block stays', () => {
    given(subscriptionDecider, BLOCKED).when(changeTier()).then([toBronze]);
    expect(expectReplayToRebuildState(subscriptionDecider, [subscribe(), block, changeTier()])).toMatchObject({
      tier: 'Bronze',
      status: 'BLOCKED',
    });
  });

  it.each(['DEPRECATED', 'BLOCKED'] as ApiLifecycle[])('moves a subscription to a %s API', (state) => {
    given(subscriptionDecider, ACTIVE)
      .when(changeTier({ api: { state, tiers: ['Bronze'] } }))
      .then([toBronze]);
  });

  it('records nothing for the tier it already has', () => {
    given(subscriptionDecider, ACTIVE)
      .when(changeTier({ tier: 'Gold' }))
      .then([]);
  });

  it('lets an ADMIN change the tier of an application owned by someone else, and no one else', () => {
    given(subscriptionDecider, ACTIVE)
      .when(changeTier({ actor: { userId: 'root', roles: ['ADMIN'] } }))
      .then([toBronze]);
    const error = given(subscriptionDecider, ACTIVE)
      .when(changeTier({ actor: { userId: 'dev-2', roles: ['DEVELOPER', 'PUBLISHER'] } }))
      .thenThrows('SUBSCRIPTION.NOT_APPLICATION_OWNER');
    expect(error.kind).toBe('FORBIDDEN');
  });

  it('refuses a tier the API does not offer, or none, naming the field', () => {
    given(subscriptionDecider, ACTIVE)
      .when(changeTier({ tier: 'Platinum' }))
      .thenThrows('SUBSCRIPTION.TIER_NOT_OFFERED', ['tier']);
    given(subscriptionDecider, ACTIVE)
      .when(changeTier({ tier: ' ' }))
      .thenThrows('SUBSCRIPTION.INVALID_INPUT', ['tier']);
  });

  it('refuses a REMOVED or missing subscription, and a RETIRED API', () => {
    given(subscriptionDecider, REMOVED).when(changeTier()).thenThrows('SUBSCRIPTION.INVALID_TRANSITION');
    given(subscriptionDecider, []).when(changeTier()).thenThrows('SUBSCRIPTION.NOT_FOUND');
    given(subscriptionDecider, ACTIVE)
      .when(changeTier({ api: { state: 'RETIRED', tiers: ['Bronze'] } }))
      .thenThrows('SUBSCRIPTION.API_RETIRED');
  });
});

describe('subscriptionStreamId', () => {
  it('is sub:<applicationId>:<apiId>', () => {
    expect(subscriptionStreamId('app-1', 'api-1')).toBe('sub:app-1:api-1');
  });
});

describe('Subscription evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    const state = expectReplayToRebuildState(subscriptionDecider, [
      subscribe(),
      block,
      unblock,
      unsubscribe(),
      subscribe({ tier: 'Bronze' }),
      changeTier({ tier: 'Gold' }),
    ]);
    expect(state).toEqual({ applicationId: 'app-1', apiId: 'api-1', tier: 'Gold', status: 'ACTIVE' });
  });
});
