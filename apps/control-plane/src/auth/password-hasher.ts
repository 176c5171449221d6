import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt, encoded as `scrypt$N$r$p$<salt>$<hash>`
 * (base64url), the only form a password takes in a `user.registered` event.
 * The parameters travel with each hash, so raising them later leaves old
 * hashes verifiable.
 */

const N = 16384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Bounds on parameters read from a stored hash: a corrupted or hostile value must not make one login eat the machine.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
// Enough for OWASP's N=2^17, r=8 with room to spare; scrypt needs about 128·r·(N + p + 2) bytes.
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const MIN_SALT_BYTES = 8;
const MIN_KEY_BYTES = 16;
const MAX_PART_BYTES = 64;
const ENCODED = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/**
 * A well-formed hash, with today's parameters, that no password matches in
 * practice (its digest is all zeros). Verify against it when the user does
 * not exist, so that the response time does not tell which usernames do.
 */
export const DUMMY_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(SALT_BYTES).toString('base64url')}$${Buffer.alloc(KEY_BYTES).toString('base64url')}`;

/** Hashes `password` with a fresh random salt: `scrypt$16384$8$1$<salt>$<hash>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await deriveKey(password, salt, KEY_BYTES, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/**
 * True if `password` matches `encoded`. A malformed hash, or one whose
 * parameters are out of bounds, is false rather than an error: the caller
 * answers "wrong username or password" either way.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed || typeof password !== 'string') return false;
  const { salt, hash, ...params } = parsed;
  let candidate: Buffer;
  try {
    candidate = await deriveKey(password, salt, hash.length, params);
  } catch {
    return false;
  }
  return timingSafeEqual(candidate, hash);
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parse(encoded: string): ParsedHash | undefined {
  const match = typeof encoded === 'string' ? ENCODED.exec(encoded) : null;
  if (!match) return undefined;
  const [n, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const salt = Buffer.from(match[4] ?? '', 'base64url');
  const hash = Buffer.from(match[5] ?? '', 'base64url');
  // scrypt requires N to be a power of two greater than 1.
  const nIsValid = n >= 2 && n <= MAX_N && (n & (n - 1)) === 0;
  if (!nIsValid || r < 1 || r > MAX_R || p < 1 || p > MAX_P || memoryFor(n, r, p) > MAX_MEMORY_BYTES) return undefined;
  if (salt.length < MIN_SALT_BYTES || salt.length > MAX_PART_BYTES || hash.length < MIN_KEY_BYTES || hash.length > MAX_PART_BYTES) {
    return undefined;
  }
  return { N: n, r, p, salt, hash };
}

function memoryFor(n: number, r: number, p: number): number {
  return 128 * r * (n + p + 2);
}

function deriveKey(password: string, salt: Buffer, length: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: MAX_MEMORY_BYTES + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
