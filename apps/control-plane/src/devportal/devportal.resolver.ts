import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CommandBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Authorized } from '../auth/roles.guard';
import { CommandContext, hasRole } from '../command-side/command-context';
import { keysetPage, PageRequest } from '../graphql/paging';
import { RequestContext } from '../graphql/request-context';
import {
  ChangeSubscriptionTierCommand,
  CreateApplicationCommand,
  DeleteApplicationCommand,
  SetSubscriptionBlockedCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  UpdateApplicationCommand,
} from './devportal.commands';
import { Application, CreateApplicationInput, Subscription, UpdateApplicationInput } from './devportal.types';

@Resolver()
export class DevportalResolver {
  constructor(
    private readonly commands: CommandBus,
    private readonly db: DataSource,
  ) {}

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Application)
  createApplication(@Args('input') input: CreateApplicationInput, @RequestContext() context: CommandContext): Promise<Application> {
    return this.commands.execute(new CreateApplicationCommand(input, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Application, { description: 'Renames an application or changes its throttling policy (its owner or an ADMIN)' })
  updateApplication(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @Args('input') input: UpdateApplicationInput,
    @RequestContext() context: CommandContext,
  ): Promise<Application> {
    return this.commands.execute(new UpdateApplicationCommand(applicationId, input, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Boolean, {
    description:
      'Deletes an application (its owner or an ADMIN): its subscriptions end, its API keys and OAuth2 clients are revoked and its tokens refused, at every gateway',
  })
  deleteApplication(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @RequestContext() context: CommandContext,
  ): Promise<boolean> {
    return this.commands.execute(new DeleteApplicationCommand(applicationId, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Subscription)
  subscribe(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @Args('apiId', { type: () => ID }) apiId: string,
    @Args('tier') tier: string,
    @RequestContext() context: CommandContext,
  ): Promise<Subscription> {
    return this.commands.execute(new SubscribeCommand(applicationId, apiId, tier, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Subscription)
  unsubscribe(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @Args('apiId', { type: () => ID }) apiId: string,
    @RequestContext() context: CommandContext,
  ): Promise<Subscription> {
    return this.commands.execute(new UnsubscribeCommand(applicationId, apiId, context));
  }

  @Authorized('DEVELOPER', 'ADMIN')
  @Mutation(() => Subscription, {
    description:
      "Moves a subscription to another tier its API offers (the application's owner or an ADMIN); gateways apply the new tier's rate from the next request. A block stays",
  })
  changeSubscriptionTier(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @Args('apiId', { type: () => ID }) apiId: string,
    @Args('tier') tier: string,
    @RequestContext() context: CommandContext,
  ): Promise<Subscription> {
    return this.commands.execute(new ChangeSubscriptionTierCommand(applicationId, apiId, tier, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => Subscription, { description: "Blocks an application's subscription: gateways answer it 403 on that API" })
  blockSubscription(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @Args('apiId', { type: () => ID }) apiId: string,
    @RequestContext() context: CommandContext,
  ): Promise<Subscription> {
    return this.commands.execute(new SetSubscriptionBlockedCommand(applicationId, apiId, true, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => Subscription, { description: 'Lifts the block of a subscription' })
  unblockSubscription(
    @Args('applicationId', { type: () => ID }) applicationId: string,
    @Args('apiId', { type: () => ID }) apiId: string,
    @RequestContext() context: CommandContext,
  ): Promise<Subscription> {
    return this.commands.execute(new SetSubscriptionBlockedCommand(applicationId, apiId, false, context));
  }

  @Authorized()
  @Query(() => [Application], { description: 'Your applications (an ADMIN sees all), oldest first, a page at a time' })
  async applications(@RequestContext() context: CommandContext, @Args() request: PageRequest): Promise<Application[]> {
    const params: unknown[] = [hasRole(context.user, 'ADMIN') ? null : context.user!.userId];
    const page = await keysetPage(this.db, request, { table: 'rm_applications', alias: 'a', sortColumn: 'created_at' }, params);
    return (await this.db.query(
      `SELECT id, name, policy, owner_id AS "ownerId", home_dc AS "homeDc" FROM rm_applications a
        WHERE deleted_at IS NULL AND ($1::text IS NULL OR owner_id = $1) AND ${page.condition}
        ${page.orderBy} ${page.limit}`,
      params,
    )) as Application[];
  }

  @Authorized()
  @Query(() => [Subscription], {
    description: 'Subscriptions of your applications (an ADMIN sees all), least recently changed first, a page at a time',
  })
  async subscriptions(
    @RequestContext() context: CommandContext,
    @Args() request: PageRequest,
    @Args('applicationId', { type: () => ID, nullable: true }) applicationId?: string,
  ): Promise<Subscription[]> {
    const params: unknown[] = [hasRole(context.user, 'ADMIN') ? null : context.user!.userId, applicationId ?? null];
    const page = await keysetPage(this.db, request, { table: 'rm_subscriptions', alias: 's', sortColumn: 'updated_at' }, params);
    return (await this.db.query(
      `SELECT s.id, s.application_id AS "applicationId", s.api_id AS "apiId", s.tier, s.status
         FROM rm_subscriptions s JOIN rm_applications a ON a.id = s.application_id
        WHERE a.deleted_at IS NULL AND ($1::text IS NULL OR a.owner_id = $1) AND ($2::text IS NULL OR s.application_id = $2)
          AND ${page.condition}
        ${page.orderBy} ${page.limit}`,
      params,
    )) as Subscription[];
  }
}
