import { Decider, DomainError, InputCheck, isIsoDateTime, isNonBlank, Message, unreachable } from '../shared';

/** The public half of a P-256 key as a JWK; the private half never leaves its DC's database. */
export interface EcPublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/** `signing-key.rotated` v1 payload. Travels to every DC so gateways verify tokens offline. */
export interface SigningKeyRotatedData {
  kid: string;
  alg: 'ES256';
  publicJwk: EcPublicJwk;
  activeFrom: string;
}

/** Publishes a new signing key of this DC (stream `signingKeyStreamId(dc)`); the handler generated the pair and stored the private key. */
export interface RotateSigningKeyData {
  kid: string;
  publicJwk: EcPublicJwk;
  activeFrom: string;
}

export type SigningKeyCommand = Message<'RotateSigningKey', RotateSigningKeyData>;
export type SigningKeyEvent = Message<'signing-key.rotated', SigningKeyRotatedData>;

/** Every kid this DC has published, oldest first; the last one signs. */
export interface SigningKeyState {
  kids: string[];
  current: SigningKeyRotatedData | null;
}

// A P-256 coordinate is 32 bytes: 43 base64url characters without padding.
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

/** Stream id of a DC's signing keys: `signing-key:<dc>`. */
export function signingKeyStreamId(dc: string): string {
  return `signing-key:${dc}`;
}

export function initialState(): SigningKeyState {
  return { kids: [], current: null };
}

export function decide(command: SigningKeyCommand, state: SigningKeyState): SigningKeyEvent[] {
  switch (command.type) {
    case 'RotateSigningKey':
      return rotate(command.data, state);
    default:
      return unreachable(command.type);
  }
}

function rotate(data: RotateSigningKeyData, state: SigningKeyState): SigningKeyEvent[] {
  const { kid, publicJwk, activeFrom } = data;
  new InputCheck()
    .require(isNonBlank(kid), 'kid', 'is required')
    .require(
      publicJwk?.kty === 'EC' && publicJwk.crv === 'P-256' && COORDINATE.test(publicJwk.x) && COORDINATE.test(publicJwk.y),
      'publicJwk',
      'must be a P-256 EC public key',
    )
    .require(isIsoDateTime(activeFrom), 'activeFrom', 'must be an ISO-8601 date-time')
    .throwIfAny('SIGNING_KEY.INVALID_INPUT');
  // Verifiers look keys up by kid: a reused kid would make old tokens verify against the wrong key.
  if (state.kids.includes(kid)) throw DomainError.conflict('SIGNING_KEY.KID_REUSED', `Key id ${kid} was used before`, ['kid']);
  const { x, y } = publicJwk;
  return [{ type: 'signing-key.rotated', data: { kid, alg: 'ES256', publicJwk: { kty: 'EC', crv: 'P-256', x, y }, activeFrom } }];
}

export function evolve(state: SigningKeyState, event: SigningKeyEvent): SigningKeyState {
  switch (event.type) {
    case 'signing-key.rotated':
      return { kids: [...state.kids, event.data.kid], current: event.data };
    default:
      return unreachable(event.type);
  }
}

/** The signing-key aggregate of one DC (streamType `signing-key`, stream id `signingKeyStreamId(dc)`). */
export const signingKeyDecider: Decider<SigningKeyCommand, SigningKeyEvent, SigningKeyState> = { decide, evolve, initialState };
