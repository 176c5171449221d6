import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EcPublicJwk, signingKeyDecider, signingKeyStreamId } from '@apim/domain';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { ControlPlaneConfig } from '../../config/control-plane.config';
import { generateSigningKeyPair } from '@apim/events';
import { SecretBox } from './secret-box';

export interface SigningKey {
  kid: string;
  privateKeyPem: string;
}

export interface PublishedJwk extends EcPublicJwk {
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

/**
 * This DC's ES256 signing keys. The private half is sealed with
 * APIM_SECRET_KEY in `signing_key_secrets` and never leaves the database
 * otherwise; the public half travels as `signing-key.rotated`, so gateways and
 * other DCs verify tokens offline. Public keys of every DC come from the
 * `rm_signing_keys` read model, and this DC's own also from its secrets table
 * (a key is usable before the projection has caught up).
 */
@Injectable()
export class SigningKeys {
  private readonly box: SecretBox;
  private current: { key: SigningKey; loadedAt: number } | null = null;
  private readonly publicKeys = new Map<string, EcPublicJwk>();

  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly db: DataSource,
    private readonly repository: AggregateRepository,
  ) {
    this.box = SecretBox.fromBase64(config.APIM_SECRET_KEY);
  }

  /** Creates this DC's first key if it has none. */
  async ensureKey(context: CommandContext): Promise<void> {
    const [row] = (await this.db.query(`SELECT kid FROM signing_key_secrets WHERE dc = $1 LIMIT 1`, [this.config.DC_ID])) as unknown[];
    if (!row) await this.rotate(context);
  }

  /** Generates a new key pair; from now on it signs, and the previous keys still verify. */
  async rotate(context: CommandContext): Promise<{ kid: string }> {
    const pair = generateSigningKeyPair();
    const sealed = this.box.seal(pair.privateKeyPem);
    await this.repository.execute({
      decider: signingKeyDecider,
      streamId: signingKeyStreamId(this.config.DC_ID),
      streamType: 'signing-key',
      context,
      evenWhenReadOnly: true,
      command: { type: 'RotateSigningKey', data: { kid: pair.kid, publicJwk: pair.publicJwk, activeFrom: new Date().toISOString() } },
      alongside: async (tx) => {
        await tx.query(`INSERT INTO signing_key_secrets (kid, dc, public_jwk, private_key_enc) VALUES ($1, $2, $3, $4)`, [
          pair.kid,
          this.config.DC_ID,
          JSON.stringify(pair.publicJwk),
          sealed,
        ]);
      },
    });
    this.current = null;
    return { kid: pair.kid };
  }

  /** The key that signs now: this DC's newest. Re-read every 30 s so that a rotation by another instance takes over. */
  async signingKey(): Promise<SigningKey> {
    if (this.current && Date.now() - this.current.loadedAt < 30_000) return this.current.key;
    const [row] = (await this.db.query(
      `SELECT kid, private_key_enc FROM signing_key_secrets WHERE dc = $1 ORDER BY created_at DESC, kid DESC LIMIT 1`,
      [this.config.DC_ID],
    )) as { kid: string; private_key_enc: string }[];
    if (!row) throw new Error('this DC has no signing key yet');
    this.current = { key: { kid: row.kid, privateKeyPem: this.box.open(row.private_key_enc) }, loadedAt: Date.now() };
    return this.current.key;
  }

  /** The public key `kid`, of any DC, or undefined if unknown. */
  async publicJwk(kid: string): Promise<EcPublicJwk | undefined> {
    const cached = this.publicKeys.get(kid);
    if (cached) return cached;
    const [row] = (await this.db.query(
      `SELECT public_jwk FROM signing_key_secrets WHERE kid = $1 UNION ALL SELECT public_jwk FROM rm_signing_keys WHERE kid = $1 LIMIT 1`,
      [kid],
    )) as { public_jwk: EcPublicJwk }[];
    if (row) this.publicKeys.set(kid, row.public_jwk);
    return row?.public_jwk;
  }

  /** Every known public key, as a JWK Set (RFC 7517). */
  async jwks(): Promise<{ keys: PublishedJwk[] }> {
    const rows = (await this.db.query(
      `SELECT DISTINCT ON (kid) kid, public_jwk
         FROM (SELECT kid, public_jwk FROM signing_key_secrets UNION ALL SELECT kid, public_jwk FROM rm_signing_keys) AS known
        ORDER BY kid`,
    )) as { kid: string; public_jwk: EcPublicJwk }[];
    const keys: PublishedJwk[] = rows.map((row) => ({ ...row.public_jwk, kid: row.kid, alg: 'ES256', use: 'sig' }));
    return { keys };
  }
}
