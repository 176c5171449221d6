import { scryptSync } from 'node:crypto';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password-hasher';

// The form the domain and the wire contract require (user.decider, user-registered.event).
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[^$\s]+\$[^$\s]+$/;
const PASSWORD = 'correct horse battery staple';

describe('password hasher', () => {
  let hash: string;

  beforeAll(async () => {
    hash = await hashPassword(PASSWORD);
  });

  it('encodes scrypt$16384$8$1$<16-byte salt>$<32-byte hash>, which the domain accepts', () => {
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(hash).toMatch(SCRYPT_HASH);
    expect(hash).not.toContain(PASSWORD);
  });

  it('salts every hash', async () => {
    expect(await hashPassword(PASSWORD)).not.toBe(hash);
  });

  it('accepts the right password and refuses another', async () => {
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('accepts a password typed in another Unicode normal form', async () => {
    const composed = 'mot de passe générique';
    expect(await verifyPassword(composed.normalize('NFD'), await hashPassword(composed))).toBe(true);
  });

  it('verifies with the parameters stored in the hash, so raising them later keeps old hashes valid', async () => {
    const salt = Buffer.from('sixteen byte slt');
    const derived = scryptSync(PASSWORD.normalize('NFKC'), salt, 32, { N: 1024, r: 8, p: 1 });
    const older = `scrypt$1024$8$1$${salt.toString('base64url')}$${derived.toString('base64url')}`;
    expect(await verifyPassword(PASSWORD, older)).toBe(true);
    expect(await verifyPassword(PASSWORD, older.replace('scrypt$1024$', 'scrypt$2048$'))).toBe(false);
  });

  it.each([
    ['a plain password', PASSWORD],
    ['an empty string', ''],
    ['a bcrypt hash', '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
    ['a missing part', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0'],
    ['N that is not a power of two', 'scrypt$10000$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['N above 2^20', 'scrypt$2097152$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['too much memory for N and r', 'scrypt$1048576$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['p of 0', 'scrypt$16384$8$0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a salt too short', 'scrypt$16384$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA'],
    ['a hash too short', 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaA'],
    ['standard base64 characters', 'scrypt$16384$8$1$c2FsdHNhbHRz+Wx0$aGFzaGhhc2hoYXNoaGFzaA=='],
  ])('answers false, without throwing, for %s', async (_case, encoded) => {
    await expect(verifyPassword(PASSWORD, encoded)).resolves.toBe(false);
  });

  it('offers a well-formed dummy hash with today’s parameters that the password does not match', async () => {
    expect(DUMMY_HASH).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword(PASSWORD, DUMMY_HASH)).toBe(false);
  });
});
