import { Decider, DomainError, InputCheck, isNonBlank, isSha256Hex, Message, unreachable } from '../shared';

/** `oauth-client.registered` v1 payload: the secret travels only as its SHA-256. */
export interface OAuthClientRegisteredData {
  applicationId: string;
  secretHash: string;
}

/** `oauth-client.revoked` v1 payload. */
export interface OAuthClientRevokedData {
  applicationId: string;
}

/** Registers an OAuth2 client (stream id = client id) whose secret the handler generated and hashed. */
export type RegisterOAuthClientData = OAuthClientRegisteredData;

/** Revokes a client. `applicationId` is the application the caller acts for; a client of another application is "not found". */
export interface RevokeOAuthClientData {
  applicationId: string;
}

export type OAuthClientCommand =
  Message<'RegisterOAuthClient', RegisterOAuthClientData> | Message<'RevokeOAuthClient', RevokeOAuthClientData>;
export type OAuthClientEvent =
  Message<'oauth-client.registered', OAuthClientRegisteredData> | Message<'oauth-client.revoked', OAuthClientRevokedData>;
export type OAuthClientState = { status: 'EMPTY' } | (OAuthClientRegisteredData & { status: 'ACTIVE' | 'REVOKED' });

export function initialState(): OAuthClientState {
  return { status: 'EMPTY' };
}

export function decide(command: OAuthClientCommand, state: OAuthClientState): OAuthClientEvent[] {
  switch (command.type) {
    case 'RegisterOAuthClient':
      return register(command.data, state);
    case 'RevokeOAuthClient':
      return revoke(command.data, state);
    default:
      return unreachable(command);
  }
}

function register(data: RegisterOAuthClientData, state: OAuthClientState): OAuthClientEvent[] {
  if (state.status !== 'EMPTY') throw DomainError.conflict('OAUTH_CLIENT.ALREADY_EXISTS', 'This OAuth client already exists');
  new InputCheck()
    .require(isNonBlank(data.applicationId), 'applicationId', 'is required')
    .require(isSha256Hex(data.secretHash), 'secretHash', 'must be 64 lowercase hex characters')
    .throwIfAny('OAUTH_CLIENT.INVALID_INPUT');
  return [{ type: 'oauth-client.registered', data: { applicationId: data.applicationId, secretHash: data.secretHash } }];
}

function revoke(data: RevokeOAuthClientData, state: OAuthClientState): OAuthClientEvent[] {
  if (state.status === 'EMPTY' || state.applicationId !== data.applicationId) {
    throw DomainError.notFound('OAUTH_CLIENT.NOT_FOUND', 'No such OAuth client');
  }
  if (state.status === 'REVOKED') throw DomainError.conflict('OAUTH_CLIENT.ALREADY_REVOKED', 'This OAuth client is already revoked');
  return [{ type: 'oauth-client.revoked', data: { applicationId: state.applicationId } }];
}

export function evolve(state: OAuthClientState, event: OAuthClientEvent): OAuthClientState {
  switch (event.type) {
    case 'oauth-client.registered':
      return { ...event.data, status: 'ACTIVE' };
    case 'oauth-client.revoked':
      return state.status === 'EMPTY' ? state : { ...state, status: 'REVOKED' };
    default:
      return unreachable(event);
  }
}

/** The OAuth2 client aggregate (streamType `oauth-client`, stream id = client id). */
export const oauthClientDecider: Decider<OAuthClientCommand, OAuthClientEvent, OAuthClientState> = { decide, evolve, initialState };
