import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { GraphQLModule } from '@nestjs/graphql';
import type { Request } from 'express';
import { JsonLogger } from '@apim/events';
import { AnalyticsResolver } from './analytics/analytics.resolver';
import { AccessTokens } from './auth/access-tokens';
import { AuthService } from './auth/auth.service';
import { AuthResolver, ChangeRoleHandler, SignUpHandler } from './auth/auth.resolver';
import { CommandSideModule } from './command-side/command-side.module';
import { ControlPlaneConfig } from './config/control-plane.config';
import {
  CreateApplicationHandler,
  UpdateApplicationHandler,
  DeleteApplicationHandler,
  SetSubscriptionBlockedHandler,
  ChangeSubscriptionTierHandler,
  SubscribeHandler,
  UnsubscribeHandler,
} from './devportal/devportal.commands';
import { DevportalResolver } from './devportal/devportal.resolver';
import { formatError } from './graphql/error-formatter';
import { graphQLRequestContext } from './graphql/graphql-request';
import { inputValidationPipe } from './graphql/input-validation';
import { queryLimitRules } from './graphql/query-limits';
import {
  GenerateApiKeyHandler,
  RegisterOAuthClientHandler,
  RevokeApiKeyHandler,
  RevokeOAuthClientHandler,
  RevokeTokenHandler,
} from './keymanager/keymanager.commands';
import { KeyManagerResolver } from './keymanager/keymanager.resolver';
import { OAuth2Controller } from './keymanager/oauth2.controller';
import { ChangeApiLifecycleHandler } from './publisher/commands/change-api-lifecycle.command';
import { CreateApiHandler } from './publisher/commands/create-api.command';
import {
  CreateThrottlingPolicyHandler,
  DeleteThrottlingPolicyHandler,
  UpdateThrottlingPolicyHandler,
} from './publisher/commands/create-throttling-policy.command';
import { UpdateApiHandler } from './publisher/commands/update-api.command';
import { PublisherResolver } from './publisher/publisher.resolver';
import { BootstrapService } from './region/bootstrap.service';
import { PromoteRegionHandler, SwitchoverHandler } from './region/region.commands';
import { RegionResolver } from './region/region.resolver';
import { SwitchoverWatcher } from './region/switchover';

const COMMAND_HANDLERS = [
  CreateApiHandler,
  UpdateApiHandler,
  ChangeApiLifecycleHandler,
  CreateThrottlingPolicyHandler,
  UpdateThrottlingPolicyHandler,
  DeleteThrottlingPolicyHandler,
  CreateApplicationHandler,
  UpdateApplicationHandler,
  DeleteApplicationHandler,
  SubscribeHandler,
  UnsubscribeHandler,
  SetSubscriptionBlockedHandler,
  ChangeSubscriptionTierHandler,
  GenerateApiKeyHandler,
  RevokeApiKeyHandler,
  RegisterOAuthClientHandler,
  RevokeOAuthClientHandler,
  RevokeTokenHandler,
  SignUpHandler,
  ChangeRoleHandler,
  PromoteRegionHandler,
  SwitchoverHandler,
];

/** The GraphQL admin API, the OAuth2 endpoints and the command side behind them. */
@Module({
  imports: [
    CommandSideModule,
    CqrsModule.forRoot({ rethrowUnhandled: true }),
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      imports: [CommandSideModule],
      inject: [ControlPlaneConfig, JsonLogger, AccessTokens],
      useFactory: (config: ControlPlaneConfig, logger: JsonLogger, tokens: AccessTokens) => ({
        path: '/graphql',
        autoSchemaFile: true,
        sortSchema: true,
        graphiql: true,
        introspection: true,
        // Never a server path or stack in a response, whatever NODE_ENV says.
        includeStacktraceInErrorResponses: false,
        validationRules: queryLimitRules({ maxDepth: config.GRAPHQL_MAX_DEPTH, maxCost: config.GRAPHQL_MAX_COST }),
        formatError: formatError(logger),
        context: ({ req }: { req: Request }) => graphQLRequestContext(req, tokens),
      }),
    }),
  ],
  controllers: [OAuth2Controller],
  providers: [
    { provide: APP_PIPE, useFactory: inputValidationPipe },
    AuthService,
    BootstrapService,
    ...COMMAND_HANDLERS,
    PublisherResolver,
    DevportalResolver,
    KeyManagerResolver,
    AuthResolver,
    RegionResolver,
    SwitchoverWatcher,
    AnalyticsResolver,
  ],
})
export class ApiModule {}
