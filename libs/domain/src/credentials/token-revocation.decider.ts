import { Decider, DomainError, InputCheck, isIsoDateTime, isNonBlank, Message, unreachable } from '../shared';

/** `token.revoked` v1 payload. Gateways keep the `jti` on their deny list until `expiresAt`, when the token dies anyway. */
export interface TokenRevokedData {
  jti: string;
  expiresAt: string;
  applicationId: string | null;
}

/** Revokes an issued JWT by its `jti`; `expiresAt` is the token's own `exp`. */
export type RevokeTokenData = TokenRevokedData;

export type TokenCommand = Message<'RevokeToken', RevokeTokenData>;
export type TokenEvent = Message<'token.revoked', TokenRevokedData>;
export type TokenState = { status: 'EMPTY' } | (TokenRevokedData & { status: 'REVOKED' });

/** Stream id of a token's revocation: `token:<jti>`, so a second revocation is a visible refusal, not a duplicate event. */
export function tokenStreamId(jti: string): string {
  return `token:${jti}`;
}

export function initialState(): TokenState {
  return { status: 'EMPTY' };
}

export function decide(command: TokenCommand, state: TokenState): TokenEvent[] {
  switch (command.type) {
    case 'RevokeToken':
      return revoke(command.data, state);
    default:
      return unreachable(command.type);
  }
}

function revoke(data: RevokeTokenData, state: TokenState): TokenEvent[] {
  if (state.status === 'REVOKED') throw DomainError.conflict('TOKEN.ALREADY_REVOKED', 'This token is already revoked');
  new InputCheck()
    .require(isNonBlank(data.jti), 'jti', 'is required')
    .require(isIsoDateTime(data.expiresAt), 'expiresAt', 'must be an ISO-8601 date-time')
    .require(data.applicationId === null || isNonBlank(data.applicationId), 'applicationId', 'must be an id or null')
    .throwIfAny('TOKEN.INVALID_INPUT');
  return [{ type: 'token.revoked', data: { jti: data.jti, expiresAt: data.expiresAt, applicationId: data.applicationId } }];
}

export function evolve(_state: TokenState, event: TokenEvent): TokenState {
  switch (event.type) {
    case 'token.revoked':
      return { ...event.data, status: 'REVOKED' };
    default:
      return unreachable(event.type);
  }
}

/** The token revocation aggregate (streamType `token`, stream id `tokenStreamId(jti)`). */
export const tokenRevocationDecider: Decider<TokenCommand, TokenEvent, TokenState> = { decide, evolve, initialState };
