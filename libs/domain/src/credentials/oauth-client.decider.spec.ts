import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { OAuthClientCommand, oauthClientDecider, OAuthClientEvent } from './oauth-client.decider';

const SECRET_HASH = 'b'.repeat(64);
const register = (overrides: { applicationId?: string; secretHash?: string } = {}): OAuthClientCommand => ({
  type: 'RegisterOAuthClient',
  data: { applicationId: 'app-1', secretHash: SECRET_HASH, ...overrides },
});
const revoke = (applicationId = 'app-1'): OAuthClientCommand => ({ type: 'RevokeOAuthClient', data: { applicationId } });
const registered: OAuthClientEvent = { type: 'oauth-client.registered', data: { applicationId: 'app-1', secretHash: SECRET_HASH } };
const revoked: OAuthClientEvent = { type: 'oauth-client.revoked', data: { applicationId: 'app-1' } };

describe('RegisterOAuthClient', () => {
  it('registers a client with the hash of its secret', () => {
    given(oauthClientDecider, []).when(register()).then([registered]);
  });

  it('refuses a client id that already exists', () => {
    given(oauthClientDecider, [registered]).when(register()).thenThrows('OAUTH_CLIENT.ALREADY_EXISTS');
  });

  it('refuses a secret that is not a SHA-256 hash, so a plain secret never lands in the log', () => {
    given(oauthClientDecider, [])
      .when(register({ secretHash: 's3cret' }))
      .thenThrows('OAUTH_CLIENT.INVALID_INPUT', ['secretHash']);
  });

  it('refuses a client without an application', () => {
    given(oauthClientDecider, [])
      .when(register({ applicationId: ' ' }))
      .thenThrows('OAUTH_CLIENT.INVALID_INPUT', ['applicationId']);
  });
});

describe('RevokeOAuthClient', () => {
  it('revokes a registered client', () => {
    given(oauthClientDecider, [registered]).when(revoke()).then([revoked]);
  });

  it('refuses to revoke a client twice', () => {
    given(oauthClientDecider, [registered, revoked]).when(revoke()).thenThrows('OAUTH_CLIENT.ALREADY_REVOKED');
  });

  it('refuses to revoke a client that does not exist', () => {
    given(oauthClientDecider, []).when(revoke()).thenThrows('OAUTH_CLIENT.NOT_FOUND');
  });

  it('answers "not found" for a client of another application', () => {
    given(oauthClientDecider, [registered]).when(revoke('app-2')).thenThrows('OAUTH_CLIENT.NOT_FOUND');
  });
});

describe('OAuthClient evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    expect(expectReplayToRebuildState(oauthClientDecider, [register(), revoke()])).toEqual({ ...registered.data, status: 'REVOKED' });
  });
});
