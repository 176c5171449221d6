import { Args, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { REGION_STREAM_ID, regionDecider } from '@apim/domain';
import { Authorized } from '../auth/roles.guard';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext } from '../command-side/command-context';
import { WriteGuard } from '../command-side/write-guard';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { RequestContext } from '../graphql/request-context';
import { listGateways } from './gateway-directory';

@ObjectType()
export class Region {
  @Field() dc!: string;
  @Field({ description: 'PRIMARY or STANDBY (active-passive), ACTIVE (active-active)' }) role!: string;
  @Field(() => Int) epoch!: number;
  @Field({ description: 'The DC that answered this query' }) local!: boolean;
  @Field({ description: 'The primary stopped taking writes for a switchover' }) fenced!: boolean;
}

@ObjectType({ description: 'Where a gateway stands on one partition it reads' })
export class GatewayPosition {
  @Field() topic!: string;
  @Field(() => Int) partition!: number;
  @Field({ description: 'Next offset to read (a string: offsets are 64-bit)' }) next!: string;
  @Field(() => Int, { description: 'Records behind the end of the partition' }) lag!: number;
}

@ObjectType({ description: "A gateway of this DC, from its latest heartbeat on this DC's apim.heartbeats" })
export class Gateway {
  @Field(() => ID) id!: string;
  @Field() dc!: string;
  @Field() version!: string;
  @Field({ description: 'LIVE, or GONE when silent for longer than GATEWAY_GONE_AFTER_SECONDS' }) status!: string;
  @Field({ description: "The gateway's own readiness when last heard: ready, degraded, catching-up, not-ready" }) state!: string;
  @Field() startedAt!: Date;
  @Field() lastSeen!: Date;
  @Field(() => Int, { description: 'Records behind, summed over its partitions' }) lag!: number;
  @Field({ description: 'SHA-256 of its routing table: gateways with equal digests route alike' }) digest!: string;
  @Field(() => Date, { nullable: true, description: 'occurredAt of the last event it applied' }) lastEventAt!: Date | null;
  @Field(() => [GatewayPosition], { description: 'Applied position per partition' }) positions!: GatewayPosition[];
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
    private readonly db: DataSource,
  ) {}

  @Authorized('ADMIN')
  @Query(() => [Gateway], { description: "This DC's gateways, most recently seen first (each DC lists its own)" })
  async gateways(@Args('includeGone', { defaultValue: true }) includeGone: boolean): Promise<Gateway[]> {
    const goneBefore = Date.now() - this.config.GATEWAY_GONE_AFTER_SECONDS * 1000;
    const gateways = (await listGateways(this.db)).map(({ gatewayId, ...row }) => ({
      id: gatewayId,
      ...row,
      status: row.lastSeen.getTime() < goneBefore ? 'GONE' : 'LIVE',
    }));
    return includeGone ? gateways : gateways.filter((gateway) => gateway.status === 'LIVE');
  }

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
