import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import {
  EcPublicJwk,
  RotateSigningKeyData,
  SigningKeyCommand,
  signingKeyDecider,
  SigningKeyEvent,
  signingKeyStreamId,
} from './signing-key.decider';

const JWK: EcPublicJwk = { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) };
const rotate = (overrides: Partial<RotateSigningKeyData> = {}): SigningKeyCommand => ({
  type: 'RotateSigningKey',
  data: { kid: 'dc1-1', publicJwk: JWK, activeFrom: '2030-01-01T00:00:00Z', ...overrides },
});
const rotated = (kid: string): SigningKeyEvent => ({
  type: 'signing-key.rotated',
  data: { kid, alg: 'ES256', publicJwk: JWK, activeFrom: '2030-01-01T00:00:00Z' },
});

describe('RotateSigningKey', () => {
  it('publishes the first key of a DC', () => {
    given(signingKeyDecider, [])
      .when(rotate())
      .then([rotated('dc1-1')]);
  });

  it('publishes a further key with a new kid', () => {
    given(signingKeyDecider, [rotated('dc1-1')])
      .when(rotate({ kid: 'dc1-2' }))
      .then([rotated('dc1-2')]);
  });

  it('keeps only the public coordinates of the key it is given', () => {
    given(signingKeyDecider, [])
      .when(rotate({ publicJwk: { ...JWK, d: 'private' } as EcPublicJwk }))
      .then([rotated('dc1-1')]);
  });

  it('refuses a kid used before, even by an older key', () => {
    given(signingKeyDecider, [rotated('dc1-1'), rotated('dc1-2')])
      .when(rotate({ kid: 'dc1-1' }))
      .thenThrows('SIGNING_KEY.KID_REUSED', ['kid']);
  });

  it.each([
    ['an RSA key', { ...JWK, kty: 'RSA' }],
    ['another curve', { ...JWK, crv: 'P-384' }],
    ['a short coordinate', { ...JWK, x: 'abc' }],
  ])('refuses %s', (_why, publicJwk) => {
    given(signingKeyDecider, [])
      .when(rotate({ publicJwk: publicJwk as EcPublicJwk }))
      .thenThrows('SIGNING_KEY.INVALID_INPUT', ['publicJwk']);
  });

  it('refuses a key without a kid or start date', () => {
    given(signingKeyDecider, [])
      .when(rotate({ kid: '', activeFrom: 'soon' }))
      .thenThrows('SIGNING_KEY.INVALID_INPUT', ['kid', 'activeFrom']);
  });
});

describe('signingKeyStreamId', () => {
  it('is signing-key:<dc>', () => {
    expect(signingKeyStreamId('dc1')).toBe('signing-key:dc1');
  });
});

describe('SigningKey evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    const state = expectReplayToRebuildState(signingKeyDecider, [rotate(), rotate({ kid: 'dc1-2' })]);
    expect(state).toEqual({ kids: ['dc1-1', 'dc1-2'], current: rotated('dc1-2').data });
  });
});
