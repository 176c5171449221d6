/** `api.blocked` v1: PUBLISHED -> BLOCKED; gateways answer 403. Empty payload. */
export class ApiBlockedV1 {}
