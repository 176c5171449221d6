import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

const CANNOT_DECRYPT = 'cannot decrypt: wrong APIM_SECRET_KEY or corrupted data';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('opens what it sealed', () => {
    expect(box.open(box.seal(PEM))).toBe(PEM);
    expect(box.open(box.seal(''))).toBe('');
    expect(box.open(box.seal('clé 🔑'))).toBe('clé 🔑');
  });

  it('seals as v1.<iv>.<tag>.<ciphertext> with a fresh IV every time', () => {
    const sealed = box.seal(PEM);
    expect(sealed).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(box.seal(PEM)).not.toBe(sealed);
  });

  it('refuses to open with another key', () => {
    const sealed = box.seal(PEM);
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow(CANNOT_DECRYPT);
  });

  it('refuses a value whose ciphertext, tag or IV was altered', () => {
    const [version, iv, tag, ciphertext] = box.seal(PEM).split('.') as [string, string, string, string];
    const flip = (part: string): string => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64url');
    };
    expect(() => box.open([version, iv, tag, flip(ciphertext)].join('.'))).toThrow(CANNOT_DECRYPT);
    expect(() => box.open([version, iv, flip(tag), ciphertext].join('.'))).toThrow(CANNOT_DECRYPT);
    expect(() => box.open([version, flip(iv), tag, ciphertext].join('.'))).toThrow(CANNOT_DECRYPT);
  });

  it.each([
    ['an empty string', ''],
    ['another version', 'v2.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aaaa'],
    ['a truncated tag', 'v1.aaaaaaaaaaaaaaaa.aaaa.aaaa'],
    ['three parts', 'v1.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa'],
    ['a plain PEM', PEM],
  ])('refuses %s without echoing it', (_case, sealed) => {
    expect(() => box.open(sealed)).toThrow(new Error(CANNOT_DECRYPT));
  });

  it('needs a key of exactly 32 bytes', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('APIM_SECRET_KEY must be 32 bytes');
    expect(() => new SecretBox(randomBytes(33))).toThrow('APIM_SECRET_KEY must be 32 bytes');
  });

  it('is not affected when the caller wipes its key buffer', () => {
    const own = Buffer.from(key);
    const copy = new SecretBox(own);
    const sealed = copy.seal(PEM);
    own.fill(0);
    expect(copy.open(sealed)).toBe(PEM);
  });

  it('reads APIM_SECRET_KEY as base64 or base64url', () => {
    const sealed = box.seal(PEM);
    expect(SecretBox.fromBase64(key.toString('base64')).open(sealed)).toBe(PEM);
    expect(SecretBox.fromBase64(key.toString('base64url')).open(sealed)).toBe(PEM);
  });

  it.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['not base64', '!'.repeat(44)],
    ['an empty value', ''],
  ])('refuses an APIM_SECRET_KEY of %s and never prints it', (_case, value) => {
    let message = '';
    try {
      SecretBox.fromBase64(value);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('APIM_SECRET_KEY must be 32 random bytes');
    if (value) expect(message).not.toContain(value);
  });
});
