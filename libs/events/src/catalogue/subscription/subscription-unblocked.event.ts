/** `subscription.unblocked` v1: BLOCKED -> ACTIVE. Empty payload. */
export class SubscriptionUnblockedV1 {}
