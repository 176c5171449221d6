import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Header, Headers, HttpCode, HttpException, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { applicationDecider, oauthClientDecider } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { GATEWAY_AUDIENCE, safeEqualHex, sha256Hex, signJwt } from '@apim/events';
import { PublishedJwk, SigningKeys } from './signing/signing-keys.service';

/** An OAuth2 error response (RFC 6749 section 5.2). */
class OAuthError extends HttpException {
  constructor(status: number, error: string, description: string) {
    super({ error, error_description: description }, status);
  }
}

/**
 * The OAuth2 token endpoint (client_credentials) and the JWKS. Clients are
 * read from their own streams, so a client registered a moment ago can get a
 * token at once.
 */
@Controller()
export class OAuth2Controller {
  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly keys: SigningKeys,
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
  ) {}

  @Post('oauth2/token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async token(@Body() body: Record<string, unknown> | undefined, @Headers('authorization') authorization?: string) {
    const form = body ?? {};
    if (form.grant_type !== 'client_credentials')
      throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    const { clientId, clientSecret } = clientCredentials(form, authorization);
    const { state } = await this.repository.load(oauthClientDecider, clientId, this.db);
    if (state.status !== 'ACTIVE' || !safeEqualHex(sha256Hex(clientSecret), state.secretHash))
      throw new OAuthError(401, 'invalid_client', 'Unknown client, wrong secret or revoked client');
    // A deleted application's clients are revoked with it (its event is the record; the client's stream says nothing).
    if ((await this.repository.load(applicationDecider, state.applicationId, this.db)).state.status !== 'CREATED')
      throw new OAuthError(401, 'invalid_client', 'The application of this client has been deleted');

    const now = Math.floor(Date.now() / 1000);
    const ttl = this.config.OAUTH_TOKEN_TTL_SECONDS;
    const jti = randomUUID();
    const claims = {
      iss: this.config.APIM_ISSUER,
      aud: GATEWAY_AUDIENCE,
      sub: clientId,
      client_id: clientId,
      application_id: state.applicationId,
      iat: now,
      nbf: now,
      exp: now + ttl,
      jti,
    };
    const accessToken = signJwt(claims, await this.keys.signingKey());
    await this.db.query(`INSERT INTO issued_tokens (jti, client_id, application_id, expires_at) VALUES ($1, $2, $3, to_timestamp($4))`, [
      jti,
      clientId,
      state.applicationId,
      now + ttl,
    ]);
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ttl };
  }

  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  jwks(): Promise<{ keys: PublishedJwk[] }> {
    return this.keys.jwks();
  }
}

/** Client authentication by HTTP Basic (preferred by RFC 6749) or by form fields. */
function clientCredentials(form: Record<string, unknown>, authorization?: string): { clientId: string; clientSecret: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
      } catch {
        throw new OAuthError(401, 'invalid_client', 'The Basic credentials are not valid percent-encoding');
      }
    }
  }
  if (typeof form.client_id === 'string' && typeof form.client_secret === 'string' && form.client_id && form.client_secret)
    return { clientId: form.client_id, clientSecret: form.client_secret };
  throw new OAuthError(401, 'invalid_client', 'Send client_id and client_secret by HTTP Basic or in the form');
}
