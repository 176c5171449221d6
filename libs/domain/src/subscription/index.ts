export { subscriptionDecider, subscriptionStreamId } from './subscription.decider';
export type {
  Actor,
  SubscribeData,
  SubscriptionCommand,
  SubscriptionCreatedData,
  SubscriptionEvent,
  SubscriptionState,
  SubscriptionStatus,
  UnsubscribeData,
} from './subscription.decider';
