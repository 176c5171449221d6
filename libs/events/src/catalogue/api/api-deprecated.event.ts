/** `api.deprecated` v1: still routable, takes no new subscriptions. Empty payload. */
export class ApiDeprecatedV1 {}
