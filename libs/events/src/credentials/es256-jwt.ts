import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import type { PublicJwk as EcPublicJwk } from '../catalogue/credentials/signing-key-rotated.event';

/**
 * ES256 JWTs (RFC 7519 over RFC 7515 compact JWS) with node:crypto only.
 * One algorithm, fixed here rather than read from the token: `alg` in the
 * header is attacker-controlled, so anything but ES256 is refused before a key
 * is even looked up (no `none`, no HS256 signed with the public key).
 */

/** Why a token was refused; stable, so callers can map it to a response without parsing messages. */
export type JwtErrorReason =
  'malformed' | 'unsupported-alg' | 'unknown-kid' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'wrong-issuer' | 'wrong-audience';

/** A refused token. The message never contains the token, nor any value taken from it. */
export class JwtError extends Error {
  constructor(
    readonly reason: JwtErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

/** The protected header of the tokens this module signs and accepts. */
export interface JwtHeader {
  alg: 'ES256';
  typ?: string;
  kid: string;
}

/** A token whose signature and time/issuer/audience claims have been checked. */
export interface VerifiedJwt {
  header: JwtHeader;
  claims: Record<string, unknown>;
}

/** What `verifyJwt` checks besides the signature. `now` is in seconds since the epoch. */
export interface JwtExpectations {
  issuer?: string;
  audience?: string;
  now?: number;
  /** Tolerated clock difference between the DCs, for `exp` and `nbf`. Default 30. */
  clockSkewSeconds?: number;
}

/** A private signing key as stored (sealed) by the key manager. */
export interface JwtSigningKey {
  kid: string;
  privateKeyPem: string;
}

/** A fresh signing key pair; `kid` is the RFC 7638 thumbprint of the public key. */
export interface SigningKeyPair extends JwtSigningKey {
  publicJwk: EcPublicJwk;
}

const DEFAULT_CLOCK_SKEW_SECONDS = 30;
// ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4), not DER.
const SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;
// Keys come from our own tables, so the caches stay small; the bound only stops a bug from growing them forever.
const MAX_CACHED_KEYS = 1000;

const publicKeys = new Map<string, KeyObject>();
const privateKeys = new Map<string, { pem: string; key: KeyObject }>();

/** Generates a P-256 key pair for ES256. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string' || typeof y !== 'string') throw new Error('P-256 key export returned no coordinates');
  const publicJwk: EcPublicJwk = { kty: 'EC', crv: 'P-256', x, y };
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { kid: jwkThumbprint(publicJwk), privateKeyPem, publicJwk };
}

/** RFC 7638 thumbprint (SHA-256, base64url, 43 characters): a kid anyone holding the public key can recompute. */
export function jwkThumbprint(jwk: EcPublicJwk): string {
  // Required members only, in lexicographic order, no whitespace: the RFC's canonical form.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

/**
 * The verification key of a P-256 JWK, cached per coordinates: importing a
 * JWK costs more than verifying a signature, and the same few keys verify
 * every request. Throws if the JWK is not a P-256 public key.
 */
export function jwkToPublicKey(jwk: EcPublicJwk): KeyObject {
  if (jwk?.kty !== 'EC' || jwk.crv !== 'P-256' || !COORDINATE.test(jwk.x) || !COORDINATE.test(jwk.y)) {
    throw new Error('not a P-256 public JWK');
  }
  const cacheKey = `${jwk.x}.${jwk.y}`;
  const cached = publicKeys.get(cacheKey);
  if (cached) return cached;
  // Only the public members go in: a JWK that also carries `d` must not become a private key here.
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
  if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
  publicKeys.set(cacheKey, key);
  return key;
}

/** Signs `claims` as a compact JWS with header `{ alg: 'ES256', typ: 'JWT', kid }`. */
export function signJwt(claims: Record<string, unknown>, key: JwtSigningKey): string {
  const header: JwtHeader = { alg: 'ES256', typ: 'JWT', kid: key.kid };
  const signingInput = `${encodeJson(header)}.${encodeJson(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), { key: privateKeyOf(key), dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Checks an ES256 token and returns its header and claims, or throws a
 * `JwtError`. The order matters: structure and `alg` first, then the
 * signature, and only then the claims, so nothing unsigned is trusted.
 * `exp` and `nbf` are checked when present; `iss` and `aud` when expected
 * (`aud` may be a string or an array of strings).
 */
export function verifyJwt(token: string, resolveKey: (kid: string) => EcPublicJwk | undefined, expect: JwtExpectations = {}): VerifiedJwt {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part)) || parts[0] === '' || parts[1] === '') {
    throw new JwtError('malformed', 'token is not a compact JWS (header.payload.signature)');
  }
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];

  const header = decodeJsonObject(encodedHeader, 'header');
  if (header.alg !== 'ES256') throw new JwtError('unsupported-alg', 'token algorithm is not ES256');
  // RFC 7515 §4.1.11: a critical extension we do not understand makes the token invalid.
  if (header.crit !== undefined) throw new JwtError('malformed', 'token header has critical extensions');
  if (typeof header.kid !== 'string' || header.kid === '') throw new JwtError('unknown-kid', 'token header has no kid');
  if (header.typ !== undefined && typeof header.typ !== 'string') throw new JwtError('malformed', 'token header typ is not a string');
  const claims = decodeJsonObject(encodedPayload, 'payload');

  const jwk = resolveKey(header.kid);
  if (!jwk) throw new JwtError('unknown-kid', 'token was signed with an unknown key');
  let publicKey: KeyObject;
  try {
    publicKey = jwkToPublicKey(jwk);
  } catch {
    throw new JwtError('unknown-kid', 'the key of this kid is not a usable P-256 key');
  }
  const signature = Buffer.from(encodedSignature, 'base64url');
  if (signature.length !== SIGNATURE_BYTES || !verifySignature(`${encodedHeader}.${encodedPayload}`, publicKey, signature)) {
    throw new JwtError('bad-signature', 'token signature does not verify');
  }

  checkClaims(claims, expect);
  return { header: { alg: 'ES256', kid: header.kid, ...(header.typ === undefined ? {} : { typ: header.typ }) }, claims };
}

function checkClaims(claims: Record<string, unknown>, expect: JwtExpectations): void {
  const now = expect.now ?? Math.floor(Date.now() / 1000);
  const skew = expect.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  // RFC 7519 §4.1.4: the token must not be accepted on or after exp.
  if (exp !== undefined && now >= exp + skew) throw new JwtError('expired', 'token has expired');
  if (nbf !== undefined && now + skew < nbf) throw new JwtError('not-yet-valid', 'token is not valid yet');
  if (expect.issuer !== undefined && claims.iss !== expect.issuer) throw new JwtError('wrong-issuer', 'token was issued by another issuer');
  if (expect.audience !== undefined && !hasAudience(claims.aud, expect.audience)) {
    throw new JwtError('wrong-audience', 'token is meant for another audience');
  }
}

function hasAudience(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience;
  return Array.isArray(aud) && aud.some((entry) => entry === audience);
}

function numericDate(claims: Record<string, unknown>, name: 'exp' | 'nbf'): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JwtError('malformed', `token claim ${name} is not a number`);
  return value;
}

function verifySignature(signingInput: string, key: KeyObject, signature: Buffer): boolean {
  try {
    return verify('sha256', Buffer.from(signingInput, 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

function privateKeyOf(key: JwtSigningKey): KeyObject {
  const cached = privateKeys.get(key.kid);
  if (cached && cached.pem === key.privateKeyPem) return cached.key;
  const privateKey = createPrivateKey(key.privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`signing key ${key.kid} is not a P-256 private key`);
  }
  if (privateKeys.size >= MAX_CACHED_KEYS) privateKeys.clear();
  privateKeys.set(key.kid, { pem: key.privateKeyPem, key: privateKey });
  return privateKey;
}

/**
 * The `kid` of a token's header, unverified, so that a caller can fetch the
 * key (perhaps asynchronously) before `verifyJwt`; undefined if unreadable.
 */
export function unverifiedKid(token: string): string | undefined {
  try {
    const kid = decodeJsonObject(token.split('.')[0] ?? '', 'header').kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeJsonObject(encoded: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', `token ${part} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new JwtError('malformed', `token ${part} is not a JSON object`);
  return value as Record<string, unknown>;
}
