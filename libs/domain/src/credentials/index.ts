export { apiKeyDecider } from './api-key.decider';
export type {
  ApiKeyCommand,
  ApiKeyEvent,
  ApiKeyGeneratedData,
  ApiKeyRevokedData,
  ApiKeyState,
  GenerateApiKeyData,
  RevokeApiKeyData,
} from './api-key.decider';
export { oauthClientDecider } from './oauth-client.decider';
export type {
  OAuthClientCommand,
  OAuthClientEvent,
  OAuthClientRegisteredData,
  OAuthClientRevokedData,
  OAuthClientState,
  RegisterOAuthClientData,
  RevokeOAuthClientData,
} from './oauth-client.decider';
export { tokenRevocationDecider, tokenStreamId } from './token-revocation.decider';
export type { RevokeTokenData, TokenCommand, TokenEvent, TokenRevokedData, TokenState } from './token-revocation.decider';
export { signingKeyDecider, signingKeyStreamId } from './signing-key.decider';
export type {
  EcPublicJwk,
  RotateSigningKeyData,
  SigningKeyCommand,
  SigningKeyEvent,
  SigningKeyRotatedData,
  SigningKeyState,
} from './signing-key.decider';
