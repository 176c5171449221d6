/** `subscription.blocked` v1: ACTIVE -> BLOCKED. Empty payload. */
export class SubscriptionBlockedV1 {}
