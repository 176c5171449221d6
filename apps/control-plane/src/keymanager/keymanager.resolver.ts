import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CommandBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Authorized } from '../auth/roles.guard';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext } from '../command-side/command-context';
import { ownedApplication } from '../devportal/owned-application';
import { InputError } from '../graphql/input-validation';
import { RequestContext } from '../graphql/request-context';
import {
  GenerateApiKeyCommand,
  RegisterOAuthClientCommand,
  RevokeApiKeyCommand,
  RevokeOAuthClientCommand,
  RevokeTokenCommand,
} from './keymanager.commands';
import { ApiKey, GeneratedApiKey, OAuthClient, OAuthClientCredentials } from './keymanager.types';
import { SigningKeys } from './signing/signing-keys.service';

@Resolver()
export class KeyManagerResolver {
  constructor(
    private readonly commands: CommandBus,
    private readonly db: DataSource,
    private readonly repository: AggregateRepository,
    private readonly signingKeys: SigningKeys,
  ) {}

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => GeneratedApiKey, { description: 'A new API key for your application; the key is shown once' })
  generateApiKey(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @RequestContext() context: CommandContext,
    @Args('expiresAt', { nullable: true, description: 'ISO-8601; default: never' }) expiresAt?: string,
  ): Promise<GeneratedApiKey> {
    if (expiresAt !== undefined && (Number.isNaN(Date.parse(expiresAt)) || Date.parse(expiresAt) <= Date.now()))
      throw new InputError('expiresAt: must be an ISO-8601 date-time in the future', ['expiresAt']);
    const normalised = expiresAt === undefined ? null : new Date(expiresAt).toISOString();
    return this.commands.execute(new GenerateApiKeyCommand(applicationId, normalised, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Boolean)
  revokeApiKey(@Args('keyId', { type: () => ID }) keyId: string, @RequestContext() context: CommandContext): Promise<boolean> {
    return this.commands.execute(new RevokeApiKeyCommand(keyId, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => OAuthClientCredentials, {
    description: 'An OAuth2 client for client_credentials at POST /oauth2/token; the secret is shown once',
  })
  registerOAuthClient(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @RequestContext() context: CommandContext,
  ): Promise<OAuthClientCredentials> {
    return this.commands.execute(new RegisterOAuthClientCommand(applicationId, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Boolean, {
    description: 'Revokes an OAuth2 client: the token endpoint refuses it, and gateways refuse every token issued to it',
  })
  revokeOAuthClient(@Args('clientId', { type: () => ID }) clientId: string, @RequestContext() context: CommandContext): Promise<boolean> {
    return this.commands.execute(new RevokeOAuthClientCommand(clientId, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Boolean, { description: 'Revokes an issued access token by its jti; gateways refuse it from then on' })
  revokeToken(@Args('jti', { type: () => ID }) jti: string, @RequestContext() context: CommandContext): Promise<boolean> {
    return this.commands.execute(new RevokeTokenCommand(jti, context));
  }

  @Authorized('ADMIN')
  @Mutation(() => String, { description: "Rotates this DC's signing key; returns the new kid. Older keys keep verifying." })
  async rotateSigningKey(@RequestContext() context: CommandContext): Promise<string> {
    return (await this.signingKeys.rotate(context)).kid;
  }

  @Authorized()
  @Query(() => [ApiKey], { description: "An application's keys (never the keys themselves)" })
  async apiKeys(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @RequestContext() context: CommandContext,
  ): Promise<ApiKey[]> {
    await ownedApplication(this.repository, applicationId, context.user);
    const rows = (await this.db.query(
      `SELECT id AS "keyId", application_id AS "applicationId", prefix, status, expires_at AS "expiresAt"
         FROM rm_api_keys WHERE application_id = $1 ORDER BY created_at, id`,
      [applicationId],
    )) as (Omit<ApiKey, 'expiresAt'> & { expiresAt: Date | null })[];
    return rows.map((row) => ({ ...row, expiresAt: row.expiresAt?.toISOString() ?? null }));
  }

  @Authorized()
  @Query(() => [OAuthClient], { description: "An application's OAuth2 clients (never their secrets)" })
  async oauthClients(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @RequestContext() context: CommandContext,
  ): Promise<OAuthClient[]> {
    await ownedApplication(this.repository, applicationId, context.user);
    const rows = (await this.db.query(
      `SELECT id AS "clientId", application_id AS "applicationId", status, created_at AS "createdAt"
         FROM rm_oauth_clients WHERE application_id = $1 ORDER BY created_at, id`,
      [applicationId],
    )) as (Omit<OAuthClient, 'createdAt'> & { createdAt: Date })[];
    return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
  }
}
