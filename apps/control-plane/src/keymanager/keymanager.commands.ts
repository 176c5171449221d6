import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { apiKeyDecider, DomainError, oauthClientDecider, tokenRevocationDecider, tokenStreamId } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext, hasRole } from '../command-side/command-context';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { ownedApplication } from '../devportal/owned-application';
import { newApiKey, newClientSecret, newEventId } from '@apim/events';
import { GeneratedApiKey, OAuthClientCredentials } from './keymanager.types';

export class GenerateApiKeyCommand extends Command<GeneratedApiKey> {
  constructor(
    readonly applicationId: string,
    readonly expiresAt: string | null,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(GenerateApiKeyCommand)
export class GenerateApiKeyHandler implements ICommandHandler<GenerateApiKeyCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ applicationId, expiresAt, context }: GenerateApiKeyCommand): Promise<GeneratedApiKey> {
    await ownedApplication(this.repository, applicationId, context.user);
    const keyId = newEventId();
    const { key, keyHash, prefix } = newApiKey();
    await this.repository.execute({
      decider: apiKeyDecider,
      streamId: keyId,
      streamType: 'apikey',
      context,
      command: { type: 'GenerateApiKey', data: { applicationId, keyHash, prefix, expiresAt, now: new Date().toISOString() } },
    });
    return { keyId, key, prefix, expiresAt };
  }
}

export class RevokeApiKeyCommand extends Command<boolean> {
  constructor(
    readonly keyId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(RevokeApiKeyCommand)
export class RevokeApiKeyHandler implements ICommandHandler<RevokeApiKeyCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ keyId, context }: RevokeApiKeyCommand): Promise<boolean> {
    const { state } = await this.repository.load(apiKeyDecider, keyId);
    if (state.status === 'EMPTY') throw DomainError.notFound('APIKEY.NOT_FOUND', `No API key ${keyId}`);
    await ownedApplication(this.repository, state.applicationId, context.user);
    await this.repository.execute({
      decider: apiKeyDecider,
      streamId: keyId,
      streamType: 'apikey',
      context,
      command: { type: 'RevokeApiKey', data: { applicationId: state.applicationId } },
    });
    return true;
  }
}

export class RegisterOAuthClientCommand extends Command<OAuthClientCredentials> {
  constructor(
    readonly applicationId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(RegisterOAuthClientCommand)
export class RegisterOAuthClientHandler implements ICommandHandler<RegisterOAuthClientCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ applicationId, context }: RegisterOAuthClientCommand): Promise<OAuthClientCredentials> {
    await ownedApplication(this.repository, applicationId, context.user);
    const clientId = newEventId();
    const { secret, secretHash } = newClientSecret();
    await this.repository.execute({
      decider: oauthClientDecider,
      streamId: clientId,
      streamType: 'oauth-client',
      context,
      command: { type: 'RegisterOAuthClient', data: { applicationId, secretHash } },
    });
    return { clientId, clientSecret: secret };
  }
}

export class RevokeTokenCommand extends Command<boolean> {
  constructor(
    readonly jti: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * Revokes an issued access token by `jti`. A token issued in this DC is
 * known (with its application and expiry); one from elsewhere can be revoked
 * by an ADMIN, kept on the deny list for the longest token lifetime.
 */
@CommandHandler(RevokeTokenCommand)
export class RevokeTokenHandler implements ICommandHandler<RevokeTokenCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
    private readonly config: ControlPlaneConfig,
  ) {}

  async execute({ jti, context }: RevokeTokenCommand): Promise<boolean> {
    const [issued] = (await this.db.query(`SELECT application_id, expires_at FROM issued_tokens WHERE jti = $1`, [jti])) as {
      application_id: string;
      expires_at: Date;
    }[];
    if (issued) await ownedApplication(this.repository, issued.application_id, context.user);
    else if (!hasRole(context.user, 'ADMIN')) throw DomainError.notFound('TOKEN.NOT_FOUND', `No token ${jti} issued here`);
    const expiresAt = issued?.expires_at ?? new Date(Date.now() + this.config.OAUTH_TOKEN_TTL_SECONDS * 1000);
    await this.repository.execute({
      decider: tokenRevocationDecider,
      streamId: tokenStreamId(jti),
      streamType: 'token',
      context,
      command: { type: 'RevokeToken', data: { jti, expiresAt: expiresAt.toISOString(), applicationId: issued?.application_id ?? null } },
    });
    return true;
  }
}
