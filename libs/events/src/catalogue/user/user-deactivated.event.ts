/** `user.deactivated` v1: the user can no longer sign in, and their access tokens are refused. Empty payload. */
export class UserDeactivatedV1 {}

/** `user.reactivated` v1: a deactivated user can sign in again (tokens issued before the deactivation stay refused). Empty payload. */
export class UserReactivatedV1 {}
