export { subscriptionDecider, subscriptionStreamId } from './subscription.decider';
export type {
  Actor,
  ChangeTierData,
  SubscribeData,
  SubscriptionCommand,
  SubscriptionCreatedData,
  SubscriptionEvent,
  SubscriptionState,
  SubscriptionStatus,
  SubscriptionTierChangedData,
  UnsubscribeData,
} from './subscription.decider';
