/**
 * `application.deleted` v1: the application is gone, and with it everything
 * that let it call APIs: its subscriptions end, its API keys and OAuth2
 * clients are revoked, its access tokens are refused. Consumers derive all of
 * that from this one event (no event per key). Empty payload.
 */
export class ApplicationDeletedV1 {}
