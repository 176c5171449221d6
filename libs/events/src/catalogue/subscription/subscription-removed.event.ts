/** `subscription.removed` v1: ACTIVE or BLOCKED -> REMOVED. Empty payload. */
export class SubscriptionRemovedV1 {}
