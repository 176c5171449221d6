/** `api.retired` v1: gone for good; not routable. Empty payload. */
export class ApiRetiredV1 {}
