/** `api.unblocked` v1: BLOCKED -> PUBLISHED. Empty payload. */
export class ApiUnblockedV1 {}
