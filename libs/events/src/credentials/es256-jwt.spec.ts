import { createHmac, sign } from 'node:crypto';
import type { PublicJwk as EcPublicJwk } from '../catalogue/credentials/signing-key-rotated.event';
import { generateSigningKeyPair, JwtError, JwtErrorReason, jwkThumbprint, jwkToPublicKey, signJwt, verifyJwt } from './es256-jwt';

const NOW = 1_700_000_000;
const pair = generateSigningKeyPair();
const other = generateSigningKeyPair();
const keys = (kid: string): EcPublicJwk | undefined => (kid === pair.kid ? pair.publicJwk : undefined);
const claims = { iss: 'https://apim.example', aud: 'apim-admin', sub: 'alice', iat: NOW, exp: NOW + 300 };

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function reasonOf(action: () => unknown): JwtErrorReason | 'no error' {
  try {
    action();
  } catch (error) {
    if (error instanceof JwtError) return error.reason;
    throw error;
  }
  return 'no error';
}

function signedWith(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: pair.privateKeyPem, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

describe('ES256 JWT', () => {
  it('generates a P-256 pair whose kid is the RFC 7638 thumbprint of the public key', () => {
    expect(pair.publicJwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.stringMatching(/^[\w-]{43}$/),
      y: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(pair.kid).toMatch(/^[\w-]{43}$/);
    expect(pair.kid).toBe(jwkThumbprint(pair.publicJwk));
    expect(pair.privateKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
    expect(other.kid).not.toBe(pair.kid);
  });

  it('verifies what it signs and returns the header and claims', () => {
    const token = signJwt(claims, pair);
    const verified = verifyJwt(token, keys, { issuer: claims.iss, audience: 'apim-admin', now: NOW });
    expect(verified).toEqual({ header: { alg: 'ES256', typ: 'JWT', kid: pair.kid }, claims });
  });

  it('accepts an audience given as an array', () => {
    const token = signJwt({ ...claims, aud: ['gateway', 'apim-admin'] }, pair);
    expect(reasonOf(() => verifyJwt(token, keys, { audience: 'apim-admin', now: NOW }))).toBe('no error');
  });

  it('refuses a token whose payload was changed after signing', () => {
    const [header, , signature] = signJwt(claims, pair).split('.');
    const forged = `${header}.${b64({ ...claims, sub: 'admin' })}.${signature}`;
    expect(reasonOf(() => verifyJwt(forged, keys, { now: NOW }))).toBe('bad-signature');
  });

  it('refuses a token signed by another key under a known kid', () => {
    const token = signJwt(claims, { kid: pair.kid, privateKeyPem: other.privateKeyPem });
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW }))).toBe('bad-signature');
  });

  it('refuses a DER signature or one of the wrong length', () => {
    const [header, payload] = signJwt(claims, pair).split('.');
    const der = sign('sha256', Buffer.from(`${header}.${payload}`), pair.privateKeyPem).toString('base64url');
    expect(reasonOf(() => verifyJwt(`${header}.${payload}.${der}`, keys, { now: NOW }))).toBe('bad-signature');
    expect(reasonOf(() => verifyJwt(`${header}.${payload}.`, keys, { now: NOW }))).toBe('bad-signature');
  });

  it('refuses alg none, even without a signature', () => {
    const token = `${b64({ alg: 'none', typ: 'JWT', kid: pair.kid })}.${b64(claims)}.`;
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW }))).toBe('unsupported-alg');
  });

  it('refuses HS256, even signed with the public key as the HMAC secret', () => {
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: pair.kid })}.${b64(claims)}`;
    const mac = createHmac('sha256', JSON.stringify(pair.publicJwk)).update(input).digest('base64url');
    expect(reasonOf(() => verifyJwt(`${input}.${mac}`, keys, { now: NOW }))).toBe('unsupported-alg');
  });

  it('refuses a kid it does not know, and a token without kid', () => {
    const token = signJwt(claims, { kid: other.kid, privateKeyPem: other.privateKeyPem });
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW }))).toBe('unknown-kid');
    expect(reasonOf(() => verifyJwt(signedWith({ alg: 'ES256' }, claims), keys, { now: NOW }))).toBe('unknown-kid');
  });

  it('refuses a token with critical header extensions it does not understand', () => {
    const token = signedWith({ alg: 'ES256', kid: pair.kid, crit: ['exp'] }, claims);
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW }))).toBe('malformed');
  });

  it.each([
    ['an empty string', ''],
    ['two parts', 'a.b'],
    ['four parts', 'a.b.c.d'],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.${b64(claims)}.sig`],
    ['a payload that is a JSON array', `${b64({ alg: 'ES256', kid: 'k' })}.${b64([1])}.sig`],
    ['characters outside base64url', `${b64({ alg: 'ES256', kid: 'k' })}.${b64(claims)}.a+b/c=`],
  ])('refuses %s as malformed', (_case, token) => {
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW }))).toBe('malformed');
  });

  it('refuses an expired token once the clock skew has passed', () => {
    const token = signJwt(claims, pair);
    expect(reasonOf(() => verifyJwt(token, keys, { now: claims.exp + 29 }))).toBe('no error');
    expect(reasonOf(() => verifyJwt(token, keys, { now: claims.exp + 30 }))).toBe('expired');
    expect(reasonOf(() => verifyJwt(token, keys, { now: claims.exp, clockSkewSeconds: 0 }))).toBe('expired');
  });

  it('refuses a token before its nbf, allowing for clock skew', () => {
    const token = signJwt({ ...claims, nbf: NOW + 100 }, pair);
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW + 70 }))).toBe('no error');
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW + 69 }))).toBe('not-yet-valid');
  });

  it('refuses an exp that is not a number', () => {
    const token = signJwt({ ...claims, exp: String(NOW + 300) }, pair);
    expect(reasonOf(() => verifyJwt(token, keys, { now: NOW }))).toBe('malformed');
  });

  it('refuses another issuer, and a missing one when an issuer is expected', () => {
    expect(reasonOf(() => verifyJwt(signJwt(claims, pair), keys, { issuer: 'https://evil.example', now: NOW }))).toBe('wrong-issuer');
    const { iss: _iss, ...withoutIssuer } = claims;
    expect(reasonOf(() => verifyJwt(signJwt(withoutIssuer, pair), keys, { issuer: claims.iss, now: NOW }))).toBe('wrong-issuer');
  });

  it('refuses another audience, as a string or an array', () => {
    expect(reasonOf(() => verifyJwt(signJwt(claims, pair), keys, { audience: 'gateway', now: NOW }))).toBe('wrong-audience');
    const token = signJwt({ ...claims, aud: ['gateway', 'portal'] }, pair);
    expect(reasonOf(() => verifyJwt(token, keys, { audience: 'apim-admin', now: NOW }))).toBe('wrong-audience');
  });

  it('checks the signature before the claims, so an unsigned claim never decides the reason', () => {
    const [header, , signature] = signJwt(claims, pair).split('.');
    const forged = `${header}.${b64({ ...claims, exp: NOW - 1000 })}.${signature}`;
    expect(reasonOf(() => verifyJwt(forged, keys, { now: NOW }))).toBe('bad-signature');
  });

  it('never puts the token in an error message', () => {
    const token = signJwt({ ...claims, sub: 'secret-subject' }, pair);
    const tampered = `${token.slice(0, -4)}AAAA`;
    const messages = [tampered, `${token}.extra`, token].map((bad) => {
      try {
        verifyJwt(bad, keys, { audience: 'nobody', now: NOW });
        return 'no error';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(messages).toHaveLength(3);
    for (const message of messages) {
      expect(message).not.toBe('no error');
      expect(message).not.toContain(token.split('.')[1]);
      expect(message).not.toContain('secret-subject');
    }
  });

  it('imports each public key once and refuses a JWK that is not P-256', () => {
    expect(jwkToPublicKey(pair.publicJwk)).toBe(jwkToPublicKey({ ...pair.publicJwk }));
    expect(() => jwkToPublicKey({ ...pair.publicJwk, crv: 'P-384' } as unknown as EcPublicJwk)).toThrow('not a P-256 public JWK');
    const broken = (): EcPublicJwk => ({ ...pair.publicJwk, x: 'x'.repeat(43) });
    expect(reasonOf(() => verifyJwt(signJwt(claims, pair), broken, { now: NOW }))).toBe('unknown-kid');
  });
});
