/** `api.published` v1: CREATED -> PUBLISHED; routable, open for subscriptions. Empty payload. */
export class ApiPublishedV1 {}
