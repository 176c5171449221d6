import { JwtError, sha256Hex, verifyJwt } from '@apim/events';
import type { OperationRoute } from '../routing/operations';
import type { RoutingTable } from '../routing/routing-table';
import { GatewayRefusal, refuse } from './gateway-errors';

/** Who is calling: the application of a valid credential, or nobody for an operation without auth. */
export interface Caller {
  applicationId: string | null;
  /** The header that carried the credential, so it is not forwarded upstream. */
  credentialHeader: 'apikey' | 'authorization' | null;
}

export interface CredentialCheckOptions {
  issuer: string;
  audience: string;
  now?: () => number;
}

const ANONYMOUS: Caller = { applicationId: null, credentialHeader: null };

/**
 * Authenticates a request offline, against the routing table only (DESIGN.md
 * section 8): an `apikey` operation takes the `apikey` header, compared by its
 * SHA-256; an `oauth2` operation takes `Authorization: Bearer <jwt>`, verified
 * against the JWKS from the event stream, with exp, nbf, iss, aud and the
 * revoked `jti`s. Messages say what is wrong, never echo the credential.
 */
export function authenticate(
  headers: ReadonlyMap<string, string>,
  operation: OperationRoute,
  table: RoutingTable,
  options: CredentialCheckOptions,
): Caller | GatewayRefusal {
  if (operation.auth === 'none') return ANONYMOUS;
  if (operation.auth === 'apikey') return checkApiKey(headers.get('apikey'), table, options.now ?? Date.now);
  return checkBearer(headers.get('authorization'), table, options);
}

function checkApiKey(header: string | string[] | undefined, table: RoutingTable, now: () => number): Caller | GatewayRefusal {
  if (header === undefined || header === '')
    return refuse(401, 'MISSING_CREDENTIALS', 'this operation needs an API key in the apikey header');
  if (Array.isArray(header)) return refuse(401, 'INVALID_CREDENTIALS', 'send one apikey header, not several');
  const remembered = knownKeyHashes.get(header);
  const hash = remembered ?? sha256Hex(header);
  const entry = table.apiKey(hash);
  if (!entry) return refuse(401, 'INVALID_CREDENTIALS', 'the API key is not valid');
  if (remembered === undefined) rememberKeyHash(header, hash);
  if (entry.revoked) return refuse(401, 'REVOKED_CREDENTIALS', 'the API key has been revoked');
  if (entry.expiresAt !== null && entry.expiresAt <= now()) return refuse(401, 'EXPIRED_CREDENTIALS', 'the API key has expired');
  return { applicationId: entry.applicationId, credentialHeader: 'apikey' };
}

/** Hashes of keys the table knew, by key: a caller sends the same key with every request, and SHA-256 costs more than a lookup. */
const knownKeyHashes = new Map<string, string>();
const KNOWN_KEY_HASHES_MAX = 10_000;

/**
 * Remembers `hash` for `key` once the table has shown it holds it (valid,
 * revoked or expired alike: the entry is still looked up each time, so a
 * revocation applies at once). Keys the table does not hold are never
 * remembered, so callers trying random keys cannot grow the memory. Kept in
 * this process only, as Kong and Tyk keep their key caches; never written anywhere.
 */
function rememberKeyHash(key: string, hash: string): void {
  if (knownKeyHashes.size >= KNOWN_KEY_HASHES_MAX) knownKeyHashes.clear();
  // A copy: the header's string is a slice that would keep its whole request head alive.
  knownKeyHashes.set(Buffer.from(key, 'latin1').toString('latin1'), hash);
}

const JWT_REFUSALS: Record<JwtError['reason'], [code: string, message: string]> = {
  malformed: ['INVALID_CREDENTIALS', 'the bearer token is not a valid JWT'],
  'unsupported-alg': ['INVALID_CREDENTIALS', 'the bearer token is not signed with ES256'],
  'unknown-kid': ['INVALID_CREDENTIALS', 'the bearer token was signed with a key this gateway does not know'],
  'bad-signature': ['INVALID_CREDENTIALS', 'the bearer token signature does not verify'],
  expired: ['EXPIRED_CREDENTIALS', 'the bearer token has expired'],
  'not-yet-valid': ['INVALID_CREDENTIALS', 'the bearer token is not valid yet'],
  'wrong-issuer': ['INVALID_CREDENTIALS', 'the bearer token was issued by another issuer'],
  'wrong-audience': ['INVALID_CREDENTIALS', 'the bearer token is not meant for the gateways'],
};

function checkBearer(header: string | undefined, table: RoutingTable, options: CredentialCheckOptions): Caller | GatewayRefusal {
  const match = header === undefined ? null : /^Bearer +([^ ]+) *$/i.exec(header);
  if (!match) return refuse(401, 'MISSING_CREDENTIALS', 'this operation needs an OAuth2 access token: Authorization: Bearer <token>');
  let claims: Record<string, unknown>;
  try {
    claims = verifyJwt(match[1], (kid) => table.signingKey(kid), {
      issuer: options.issuer,
      audience: options.audience,
      ...(options.now ? { now: Math.floor(options.now() / 1000) } : {}),
    }).claims;
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    const [code, message] = JWT_REFUSALS[error.reason];
    return refuse(401, code, message);
  }
  const { jti, application_id: applicationId, client_id: clientId } = claims;
  if (typeof jti !== 'string' || typeof applicationId !== 'string') {
    return refuse(401, 'INVALID_CREDENTIALS', 'the bearer token lacks the jti or application_id claim');
  }
  if (table.isTokenRevoked(jti)) return refuse(401, 'REVOKED_CREDENTIALS', 'the bearer token has been revoked');
  if (table.isApplicationDeleted(applicationId))
    return refuse(401, 'REVOKED_CREDENTIALS', 'the application of this token has been deleted');
  if (typeof clientId === 'string' && table.oauthClient(clientId)?.revoked) {
    return refuse(401, 'REVOKED_CREDENTIALS', 'the OAuth2 client of this token has been revoked');
  }
  return { applicationId, credentialHeader: 'authorization' };
}
