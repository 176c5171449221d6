import { createCipheriv, createDecipheriv, createSecretKey, KeyObject, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
// 96-bit IVs are GCM's native size; random ones are safe for far more seals than a DC will ever make with one key.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
// One message for every failure: telling "wrong key" from "bad format" apart would help nobody but an attacker probing stored values.
const CANNOT_DECRYPT = 'cannot decrypt: wrong APIM_SECRET_KEY or corrupted data';

/**
 * Encrypts secrets at rest (this DC's private signing keys) with
 * AES-256-GCM under APIM_SECRET_KEY. A sealed value reads
 * `v1.<iv>.<tag>.<ciphertext>` (base64url): the version lets a later format or
 * key rotation coexist with rows sealed today.
 */
export class SecretBox {
  private readonly key: KeyObject;

  /** `key` must be exactly 32 bytes; it is copied, so the caller may wipe its buffer. */
  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new Error(`APIM_SECRET_KEY must be ${KEY_BYTES} bytes`);
    this.key = createSecretKey(Buffer.from(key));
  }

  /** A box keyed by APIM_SECRET_KEY as configured: 32 bytes, base64 or base64url. The value never appears in an error. */
  static fromBase64(value: string): SecretBox {
    const trimmed = typeof value === 'string' ? value.trim() : '';
    const key = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
    if (key.length !== KEY_BYTES) {
      throw new Error(`APIM_SECRET_KEY must be ${KEY_BYTES} random bytes, base64-encoded (openssl rand -base64 32)`);
    }
    return new SecretBox(key);
  }

  /** Encrypts `plaintext` under a fresh random IV; sealing the same text twice gives different outputs. */
  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Decrypts a value made by `seal`; throws if the key is wrong or the value was altered. */
  open(sealed: string): string {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    if (parts.length !== 4 || parts[0] !== VERSION || !parts.every((part) => BASE64URL.test(part))) throw new Error(CANNOT_DECRYPT);
    const [, iv, tag, ciphertext] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error(CANNOT_DECRYPT);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(CANNOT_DECRYPT);
    }
  }
}
