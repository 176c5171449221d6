import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { RevokeTokenData, TokenCommand, tokenRevocationDecider, TokenEvent, tokenStreamId } from './token-revocation.decider';

const revoke = (overrides: Partial<RevokeTokenData> = {}): TokenCommand => ({
  type: 'RevokeToken',
  data: { jti: 'jti-1', expiresAt: '2030-01-01T00:15:00Z', applicationId: 'app-1', ...overrides },
});
const revoked: TokenEvent = { type: 'token.revoked', data: { jti: 'jti-1', expiresAt: '2030-01-01T00:15:00Z', applicationId: 'app-1' } };

describe('RevokeToken', () => {
  it('revokes a token until it expires', () => {
    given(tokenRevocationDecider, []).when(revoke()).then([revoked]);
  });

  it('revokes a token issued to no application', () => {
    given(tokenRevocationDecider, [])
      .when(revoke({ applicationId: null }))
      .then([{ type: 'token.revoked', data: { ...revoked.data, applicationId: null } }]);
  });

  it('refuses to revoke a token twice', () => {
    const error = given(tokenRevocationDecider, [revoked]).when(revoke()).thenThrows('TOKEN.ALREADY_REVOKED');
    expect(error.kind).toBe('CONFLICT');
  });

  it('refuses a revocation without a jti', () => {
    given(tokenRevocationDecider, [])
      .when(revoke({ jti: '' }))
      .thenThrows('TOKEN.INVALID_INPUT', ['jti']);
  });

  it('refuses an expiry that is not a date-time', () => {
    given(tokenRevocationDecider, [])
      .when(revoke({ expiresAt: '1700000000' }))
      .thenThrows('TOKEN.INVALID_INPUT', ['expiresAt']);
  });
});

describe('tokenStreamId', () => {
  it('is token:<jti>', () => {
    expect(tokenStreamId('jti-1')).toBe('token:jti-1');
  });
});

describe('Token evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    expect(expectReplayToRebuildState(tokenRevocationDecider, [revoke()])).toEqual({ ...revoked.data, status: 'REVOKED' });
  });
});
