import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { apiKeyDecider, Decider, DomainError, Message, oauthClientDecider, tokenRevocationDecider, tokenStreamId } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext, hasRole } from '../command-side/command-context';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { ownedApplication } from '../devportal/owned-application';
import { newApiKey, newClientSecret, newEventId, StreamType } from '@apim/events';
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

  execute({ keyId, context }: RevokeApiKeyCommand): Promise<boolean> {
    return revokeCredential(this.repository, context, {
      decider: apiKeyDecider,
      streamType: 'apikey',
      id: keyId,
      missing: DomainError.notFound('APIKEY.NOT_FOUND', `No API key ${keyId}`),
      revoke: (applicationId) => ({ type: 'RevokeApiKey', data: { applicationId } }),
    });
  }
}

/**
 * Revokes a credential of an application (an API key, an OAuth2 client):
 * only its owner or an ADMIN may; the decider refuses a second revocation.
 */
async function revokeCredential<Command, Event extends Message<string, unknown>, State extends { status: string }>(
  repository: AggregateRepository,
  context: CommandContext,
  credential: {
    decider: Decider<Command, Event, State>;
    streamType: StreamType;
    id: string;
    missing: DomainError;
    revoke: (applicationId: string) => Command;
  },
): Promise<boolean> {
  const { state } = await repository.load(credential.decider, credential.id);
  if (!('applicationId' in state) || typeof state.applicationId !== 'string') throw credential.missing;
  const applicationId = state.applicationId;
  await ownedApplication(repository, applicationId, context.user);
  await repository.execute({
    decider: credential.decider,
    streamId: credential.id,
    streamType: credential.streamType,
    context,
    command: credential.revoke(applicationId),
  });
  return true;
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

export class RevokeOAuthClientCommand extends Command<boolean> {
  constructor(
    readonly clientId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Revokes an OAuth2 client: the token endpoint refuses it, and gateways refuse the tokens it was issued. */
@CommandHandler(RevokeOAuthClientCommand)
export class RevokeOAuthClientHandler implements ICommandHandler<RevokeOAuthClientCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  execute({ clientId, context }: RevokeOAuthClientCommand): Promise<boolean> {
    return revokeCredential(this.repository, context, {
      decider: oauthClientDecider,
      streamType: 'oauth-client',
      id: clientId,
      missing: DomainError.notFound('OAUTH_CLIENT.NOT_FOUND', 'No such OAuth client'),
      revoke: (applicationId) => ({ type: 'RevokeOAuthClient', data: { applicationId } }),
    });
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
