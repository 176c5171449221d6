import { Args, Field, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { REGION_STREAM_ID, regionDecider } from '@apim/domain';
import { Authorized } from '../auth/roles.guard';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext } from '../command-side/command-context';
import { WriteGuard } from '../command-side/write-guard';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { RequestContext } from '../graphql/request-context';

@ObjectType()
export class Region {
  @Field() dc!: string;
  @Field({ description: 'PRIMARY or STANDBY (active-passive), ACTIVE (active-active)' }) role!: string;
  @Field(() => Int) epoch!: number;
  @Field({ description: 'The DC that answered this query' }) local!: boolean;
  @Field({ description: 'The primary stopped taking writes for a switchover' }) fenced!: boolean;
}

export class PromoteRegionCommand extends Command<void> {
  constructor(
    readonly dc: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(PromoteRegionCommand)
export class PromoteRegionHandler implements ICommandHandler<PromoteRegionCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly config: ControlPlaneConfig,
  ) {}

  async execute({ dc, context }: PromoteRegionCommand): Promise<void> {
    await this.repository.execute({
      decider: regionDecider,
      streamId: REGION_STREAM_ID,
      streamType: 'region',
      context,
      // Failover is how a standby stops being read-only.
      evenWhenReadOnly: true,
      command: { type: 'PromoteRegion', data: { dc, knownDcs: this.config.allDcs } },
    });
  }
}

@Resolver(() => Region)
export class RegionResolver {
  constructor(
    private readonly guard: WriteGuard,
    private readonly config: ControlPlaneConfig,
    private readonly commands: CommandBus,
  ) {}

  @Authorized()
  @Query(() => [Region], { description: 'Every DC of the topology as this DC sees it' })
  async regions(): Promise<Region[]> {
    const region = await this.guard.region();
    const activeActive = this.config.REPLICATION_MODE === 'active-active';
    return this.config.allDcs.map((dc) => ({
      dc,
      role: activeActive ? 'ACTIVE' : dc === region.effectivePrimary ? 'PRIMARY' : 'STANDBY',
      epoch: region.epoch,
      local: dc === this.config.DC_ID,
      fenced: !activeActive && dc === region.effectivePrimary && region.fenced,
    }));
  }

  @Authorized('ADMIN')
  @Mutation(() => [Region], { description: 'Failover: makes `dc` the primary in a new epoch' })
  async promoteRegion(@Args('dc') dc: string, @RequestContext() context: CommandContext): Promise<Region[]> {
    await this.commands.execute(new PromoteRegionCommand(dc, context));
    return this.regions();
  }
}
