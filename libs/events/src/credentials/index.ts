export * from './es256-jwt';
export * from './secrets';

/** `aud` of the access tokens the control plane issues for API calls: what gateways accept. */
export const GATEWAY_AUDIENCE = 'apim-gateway';
