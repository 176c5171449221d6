import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { userDecider, userStreamId } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { AuthUser } from '../command-side/command-context';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { JwtError, signJwt, unverifiedKid, verifyJwt } from '@apim/events';
import { SigningKeys } from '../keymanager/signing/signing-keys.service';

/** Audience of admin API tokens; OAuth2 tokens for gateways carry another, so neither passes for the other. */
export const ADMIN_AUDIENCE = 'apim-admin';

/**
 * Admin API access tokens: ES256 JWTs signed with this DC's key. Any DC can
 * verify them (the public keys travel as events), so a login survives a
 * failover. Roles are read from the user's stream on every request, so a
 * role change applies at once rather than when the token expires; so is the
 * last password change, which ends every session signed in before it.
 */
@Injectable()
export class AccessTokens {
  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly keys: SigningKeys,
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
  ) {}

  async issue(user: AuthUser): Promise<{ accessToken: string; expiresIn: number }> {
    const now = Math.floor(Date.now() / 1000);
    const ttl = this.config.ACCESS_TOKEN_TTL_SECONDS;
    const claims = { iss: this.config.APIM_ISSUER, aud: ADMIN_AUDIENCE, sub: user.username, iat: now, exp: now + ttl, jti: randomUUID() };
    return { accessToken: signJwt(claims, await this.keys.signingKey()), expiresIn: ttl };
  }

  /** The user an `Authorization` header stands for; throws with a reason fit for the client. */
  async authenticate(authorization: string): Promise<AuthUser> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw new Error('Authorization must be "Bearer <accessToken>"');
    const token = match[1];
    const kid = unverifiedKid(token);
    const jwk = kid ? await this.keys.publicJwk(kid) : undefined;
    let claims: Record<string, unknown>;
    try {
      ({ claims } = verifyJwt(token, () => jwk, { issuer: this.config.APIM_ISSUER, audience: ADMIN_AUDIENCE }));
    } catch (error) {
      if (error instanceof JwtError) throw new Error(`Access token refused (${error.reason}); sign in again`);
      throw error;
    }
    const username = String(claims.sub ?? '');
    const { state, events } = await this.repository.load(userDecider, userStreamId(username), this.db);
    if (state.status === 'EMPTY') throw new Error('Access token refused (unknown user); sign in again');
    if (!state.active) throw new Error('Access token refused (the account is deactivated)');
    const issuedAt = Number(claims.iat);
    // A reactivation does not bring back the sessions the deactivation ended.
    const deactivatedAt = lastSecondOf(events, 'user.deactivated');
    if (deactivatedAt !== null && issuedAt <= deactivatedAt)
      throw new Error('Access token refused (the account was deactivated since it was issued); sign in again');
    // A token issued in the second of a password change (the one changePassword returns) is kept.
    const passwordChangedAt = lastSecondOf(events, 'user.password-changed');
    if (passwordChangedAt !== null && issuedAt < passwordChangedAt)
      throw new Error('Access token refused (the password has changed since it was issued); sign in again');
    return { userId: userStreamId(username), username: state.username, roles: state.roles };
  }
}

/** When the last event of `type` in a user's stream happened, in whole seconds as a token's `iat`; null if none. */
function lastSecondOf(events: readonly { type: string; occurredAt: string }[], type: string): number | null {
  for (let i = events.length - 1; i >= 0; i--) if (events[i].type === type) return Math.floor(Date.parse(events[i].occurredAt) / 1000);
  return null;
}
