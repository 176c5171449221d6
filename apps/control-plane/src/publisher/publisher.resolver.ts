import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CommandBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Authorized } from '../auth/roles.guard';
import { CommandContext, hasRole } from '../command-side/command-context';
import { keysetPage, PageRequest } from '../graphql/paging';
import { RequestContext } from '../graphql/request-context';
import { apiFromRow, ApiRow } from './api-views';
import {
  Api,
  CreateApiInput,
  CreateThrottlingPolicyInput,
  LifecycleAction,
  ThrottlingPolicy,
  UpdateApiInput,
  UpdateThrottlingPolicyInput,
} from './api.types';
import { ChangeApiLifecycleCommand } from './commands/change-api-lifecycle.command';
import { CreateApiCommand } from './commands/create-api.command';
import {
  CreateThrottlingPolicyCommand,
  DeleteThrottlingPolicyCommand,
  UpdateThrottlingPolicyCommand,
} from './commands/create-throttling-policy.command';
import { UpdateApiCommand } from './commands/update-api.command';

/** Developers see what they may subscribe to: published or deprecated public APIs. */
const DEVELOPER_VISIBLE = `state IN ('PUBLISHED', 'DEPRECATED') AND visibility = 'public'`;

@Resolver(() => Api)
export class PublisherResolver {
  constructor(
    private readonly commands: CommandBus,
    private readonly db: DataSource,
  ) {}

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => Api)
  createApi(@Args('input') input: CreateApiInput, @RequestContext() context: CommandContext): Promise<Api> {
    return this.commands.execute(new CreateApiCommand(input, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => Api)
  updateApi(
    @Args('id', { type: () => ID }) id: string,
    @Args('input') input: UpdateApiInput,
    @RequestContext() context: CommandContext,
  ): Promise<Api> {
    return this.commands.execute(new UpdateApiCommand(id, input, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => Api)
  changeApiLifecycle(
    @Args('id', { type: () => ID }) id: string,
    @Args('action', { type: () => LifecycleAction }) action: LifecycleAction,
    @RequestContext() context: CommandContext,
  ): Promise<Api> {
    return this.commands.execute(new ChangeApiLifecycleCommand(id, action, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => ThrottlingPolicy)
  createThrottlingPolicy(
    @Args('input') input: CreateThrottlingPolicyInput,
    @RequestContext() context: CommandContext,
  ): Promise<ThrottlingPolicy> {
    return this.commands.execute(new CreateThrottlingPolicyCommand(input, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => ThrottlingPolicy, {
    description: "Changes a tier's rate (requests per minute, and burst when given); gateways apply it as soon as the event reaches them",
  })
  updateThrottlingPolicy(
    @Args('input') input: UpdateThrottlingPolicyInput,
    @RequestContext() context: CommandContext,
  ): Promise<ThrottlingPolicy> {
    return this.commands.execute(new UpdateThrottlingPolicyCommand(input, context));
  }

  @Authorized('PUBLISHER', 'ADMIN')
  @Mutation(() => Boolean, {
    description:
      'Deletes a tier that nothing uses (no API that is not retired offers it or is throttled by it, no application has it, no subscription is on it); its name may be created again. Unlimited, the default policy of applications, stays',
  })
  deleteThrottlingPolicy(@Args('name') name: string, @RequestContext() context: CommandContext): Promise<boolean> {
    return this.commands.execute(new DeleteThrottlingPolicyCommand(name, context));
  }

  @Authorized()
  @Query(() => [Api], {
    description: 'Publishers and admins see every API; developers the published and deprecated public ones. Oldest first, a page at a time',
  })
  async apis(@RequestContext() context: CommandContext, @Args() request: PageRequest): Promise<Api[]> {
    const visible = hasRole(context.user, 'PUBLISHER', 'ADMIN') ? 'TRUE' : DEVELOPER_VISIBLE;
    const params: unknown[] = [];
    const page = await keysetPage(this.db, request, { table: 'rm_apis', alias: 'rm_apis', sortColumn: 'created_at' }, params);
    const rows = (await this.db.query(
      `SELECT * FROM rm_apis WHERE ${visible} AND ${page.condition} ${page.orderBy} ${page.limit}`,
      params,
    )) as ApiRow[];
    return rows.map(apiFromRow);
  }

  @Authorized()
  @Query(() => Api, { nullable: true })
  async api(@Args('id', { type: () => ID }) id: string, @RequestContext() context: CommandContext): Promise<Api | null> {
    const where = hasRole(context.user, 'PUBLISHER', 'ADMIN') ? '' : `AND ${DEVELOPER_VISIBLE}`;
    const [row] = (await this.db.query(`SELECT * FROM rm_apis WHERE id = $1 ${where}`, [id])) as ApiRow[];
    return row ? apiFromRow(row) : null;
  }

  @Authorized()
  @Query(() => [ThrottlingPolicy])
  async throttlingPolicies(): Promise<ThrottlingPolicy[]> {
    const rows = (await this.db.query(`SELECT * FROM rm_policies ORDER BY requests_per_minute, name`)) as {
      name: string;
      requests_per_minute: number;
      burst: number;
      unlimited: boolean;
    }[];
    return rows.map((r) => ({ name: r.name, requestsPerMinute: r.requests_per_minute, burst: r.burst, unlimited: r.unlimited }));
  }
}
