import { Decider, DomainError, InputCheck, isIsoDateTime, isNonBlank, isSha256Hex, Message, unreachable } from '../shared';

/** `apikey.generated` v1 payload. The key itself is never in an event, only its SHA-256 and a visible prefix. */
export interface ApiKeyGeneratedData {
  applicationId: string;
  keyHash: string;
  prefix: string;
  expiresAt: string | null;
}

/** `apikey.revoked` v1 payload. */
export interface ApiKeyRevokedData {
  applicationId: string;
}

/**
 * Records a new API key for an application. The handler generates the key,
 * hashes it and cuts the prefix; `now` is the handler's clock, so that the
 * decider stays deterministic.
 */
export interface GenerateApiKeyData extends ApiKeyGeneratedData {
  now: string;
}

/** Revokes a key. `applicationId` is the application the caller acts for; a key of another application is "not found". */
export interface RevokeApiKeyData {
  applicationId: string;
}

export type ApiKeyCommand = Message<'GenerateApiKey', GenerateApiKeyData> | Message<'RevokeApiKey', RevokeApiKeyData>;
export type ApiKeyEvent = Message<'apikey.generated', ApiKeyGeneratedData> | Message<'apikey.revoked', ApiKeyRevokedData>;
export type ApiKeyState = { status: 'EMPTY' } | (ApiKeyGeneratedData & { status: 'ACTIVE' | 'REVOKED' });

const PREFIX = /^\S{4,12}$/;

export function initialState(): ApiKeyState {
  return { status: 'EMPTY' };
}

export function decide(command: ApiKeyCommand, state: ApiKeyState): ApiKeyEvent[] {
  switch (command.type) {
    case 'GenerateApiKey':
      return generate(command.data, state);
    case 'RevokeApiKey':
      return revoke(command.data, state);
    default:
      return unreachable(command);
  }
}

function generate(data: GenerateApiKeyData, state: ApiKeyState): ApiKeyEvent[] {
  if (state.status !== 'EMPTY') throw DomainError.conflict('APIKEY.ALREADY_EXISTS', 'This API key already exists');
  const { applicationId, keyHash, prefix, expiresAt, now } = data;
  const check = new InputCheck()
    .require(isNonBlank(applicationId), 'applicationId', 'is required')
    .require(isSha256Hex(keyHash), 'keyHash', 'must be 64 lowercase hex characters')
    .require(typeof prefix === 'string' && PREFIX.test(prefix), 'prefix', 'must be 4..12 characters without spaces')
    .require(isIsoDateTime(now), 'now', 'must be an ISO-8601 date-time');
  if (expiresAt !== null) {
    const valid = isIsoDateTime(expiresAt);
    check.require(valid, 'expiresAt', 'must be an ISO-8601 date-time or null');
    if (valid && isIsoDateTime(now)) check.require(Date.parse(expiresAt) > Date.parse(now), 'expiresAt', 'must be in the future');
  }
  check.throwIfAny('APIKEY.INVALID_INPUT');
  return [{ type: 'apikey.generated', data: { applicationId, keyHash, prefix, expiresAt } }];
}

function revoke(data: RevokeApiKeyData, state: ApiKeyState): ApiKeyEvent[] {
  if (state.status === 'EMPTY' || state.applicationId !== data.applicationId)
    throw DomainError.notFound('APIKEY.NOT_FOUND', 'No such API key');
  if (state.status === 'REVOKED') throw DomainError.conflict('APIKEY.ALREADY_REVOKED', 'This API key is already revoked');
  return [{ type: 'apikey.revoked', data: { applicationId: state.applicationId } }];
}

export function evolve(state: ApiKeyState, event: ApiKeyEvent): ApiKeyState {
  switch (event.type) {
    case 'apikey.generated':
      return { ...event.data, status: 'ACTIVE' };
    case 'apikey.revoked':
      return state.status === 'EMPTY' ? state : { ...state, status: 'REVOKED' };
    default:
      return unreachable(event);
  }
}

/** The API key aggregate (streamType `apikey`, stream id = key id). */
export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyEvent, ApiKeyState> = { decide, evolve, initialState };
