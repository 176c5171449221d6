import { createHash } from 'node:crypto';
import { newApiKey, newClientSecret, safeEqualHex, sha256Hex } from './secrets';

// The domain's rules for what an event may carry (api-key.decider, oauth-client.decider).
const SHA256_HEX = /^[0-9a-f]{64}$/;
const PREFIX = /^\S{4,12}$/;

describe('credential secrets', () => {
  it('makes an API key of apim_ and 32 random bytes, hashed with SHA-256', () => {
    const { key, keyHash } = newApiKey();
    expect(key).toMatch(/^apim_[\w-]{43}$/);
    expect(keyHash).toMatch(SHA256_HEX);
    expect(keyHash).toBe(createHash('sha256').update(key).digest('hex'));
  });

  it('cuts a 12-character prefix that the domain accepts and that starts the key', () => {
    const { key, prefix } = newApiKey();
    expect(prefix).toHaveLength(12);
    expect(prefix).toMatch(PREFIX);
    expect(key.startsWith(prefix)).toBe(true);
  });

  it('never makes the same key twice', () => {
    const keys = new Set(Array.from({ length: 100 }, () => newApiKey().key));
    expect(keys.size).toBe(100);
  });

  it('makes a client secret of 32 random bytes, hashed with SHA-256', () => {
    const { secret, secretHash } = newClientSecret();
    expect(secret).toMatch(/^[\w-]{43}$/);
    expect(secretHash).toMatch(SHA256_HEX);
    expect(secretHash).toBe(sha256Hex(secret));
    expect(newClientSecret().secret).not.toBe(secret);
  });

  it('hashes the UTF-8 bytes of a value', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compares hex digests, ignoring case', () => {
    const hash = sha256Hex('abc');
    expect(safeEqualHex(hash, sha256Hex('abc'))).toBe(true);
    expect(safeEqualHex(hash, hash.toUpperCase())).toBe(true);
    expect(safeEqualHex(hash, sha256Hex('abd'))).toBe(false);
  });

  it('is false, not an error, for different lengths, empty strings or non-hex input', () => {
    const hash = sha256Hex('abc');
    expect(safeEqualHex(hash, hash.slice(0, 62))).toBe(false);
    expect(safeEqualHex('', '')).toBe(false);
    expect(safeEqualHex('abc', 'abc')).toBe(false);
    expect(safeEqualHex(`${hash.slice(0, 63)}z`, `${hash.slice(0, 63)}z`)).toBe(false);
  });
});
