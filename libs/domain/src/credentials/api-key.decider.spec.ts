import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { ApiKeyCommand, apiKeyDecider, ApiKeyEvent, GenerateApiKeyData } from './api-key.decider';

const HASH = 'a'.repeat(64);
const NOW = '2030-01-01T00:00:00.000Z';
const generate = (overrides: Partial<GenerateApiKeyData> = {}): ApiKeyCommand => ({
  type: 'GenerateApiKey',
  data: { applicationId: 'app-1', keyHash: HASH, prefix: 'ak_1234', expiresAt: '2030-02-01T00:00:00.000Z', now: NOW, ...overrides },
});
const revoke = (applicationId = 'app-1'): ApiKeyCommand => ({ type: 'RevokeApiKey', data: { applicationId } });
const generated: ApiKeyEvent = {
  type: 'apikey.generated',
  data: { applicationId: 'app-1', keyHash: HASH, prefix: 'ak_1234', expiresAt: '2030-02-01T00:00:00.000Z' },
};
const revoked: ApiKeyEvent = { type: 'apikey.revoked', data: { applicationId: 'app-1' } };

describe('GenerateApiKey', () => {
  it('records the hash, prefix and expiry of a new key, never the key or the clock', () => {
    given(apiKeyDecider, []).when(generate()).then([generated]);
  });

  it('records a key that never expires', () => {
    given(apiKeyDecider, [])
      .when(generate({ expiresAt: null }))
      .then([{ type: 'apikey.generated', data: { ...generated.data, expiresAt: null } } as ApiKeyEvent]);
  });

  it('refuses a key id that already exists', () => {
    given(apiKeyDecider, [generated]).when(generate()).thenThrows('APIKEY.ALREADY_EXISTS');
  });

  it.each([NOW, '2029-12-31T23:59:59.999Z'])('refuses an expiry of %s, not after now', (expiresAt) => {
    given(apiKeyDecider, []).when(generate({ expiresAt })).thenThrows('APIKEY.INVALID_INPUT', ['expiresAt']);
  });

  it('refuses an expiry that is not a date-time', () => {
    given(apiKeyDecider, [])
      .when(generate({ expiresAt: 'next week' }))
      .thenThrows('APIKEY.INVALID_INPUT', ['expiresAt']);
  });

  it.each(['A'.repeat(64), 'a'.repeat(63), 'not-a-hash'])('refuses the key hash %j', (keyHash) => {
    given(apiKeyDecider, []).when(generate({ keyHash })).thenThrows('APIKEY.INVALID_INPUT', ['keyHash']);
  });

  it.each(['abc', 'x'.repeat(13), 'ab cd'])('refuses the prefix %j', (prefix) => {
    given(apiKeyDecider, []).when(generate({ prefix })).thenThrows('APIKEY.INVALID_INPUT', ['prefix']);
  });

  it('refuses a key without an application', () => {
    given(apiKeyDecider, [])
      .when(generate({ applicationId: '' }))
      .thenThrows('APIKEY.INVALID_INPUT', ['applicationId']);
  });
});

describe('RevokeApiKey', () => {
  it('revokes an active key', () => {
    given(apiKeyDecider, [generated]).when(revoke()).then([revoked]);
  });

  it('refuses to revoke a key twice', () => {
    const error = given(apiKeyDecider, [generated, revoked]).when(revoke()).thenThrows('APIKEY.ALREADY_REVOKED');
    expect(error.kind).toBe('CONFLICT');
  });

  it('refuses to revoke a key that does not exist', () => {
    given(apiKeyDecider, []).when(revoke()).thenThrows('APIKEY.NOT_FOUND');
  });

  it('answers "not found" for a key of another application, revealing nothing about it', () => {
    given(apiKeyDecider, [generated]).when(revoke('app-2')).thenThrows('APIKEY.NOT_FOUND');
  });
});

describe('ApiKey evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    expect(expectReplayToRebuildState(apiKeyDecider, [generate(), revoke()])).toEqual({ ...generated.data, status: 'REVOKED' });
  });
});
