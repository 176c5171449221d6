import { Args, Field, ID, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { mirrorTopic, TOPICS } from '@apim/events';
import { CommandBus } from '@nestjs/cqrs';
import { Authorized } from '../auth/roles.guard';
import { CommandContext } from '../command-side/command-context';
import { WriteGuard } from '../command-side/write-guard';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { RequestContext } from '../graphql/request-context';
import { pageClause, PageRequest } from '../graphql/paging';
import { CONFLICTS_ORDER, listConflicts } from '../infrastructure/importer/conflicts';
import { DIVERGENT_EVENTS_ORDER, listDivergentEvents } from '../infrastructure/importer/divergence';
import { importerLag } from '../infrastructure/importer/event-importer';
import { listGateways, listReplication } from './gateway-directory';
import { PromoteRegionCommand, SwitchoverCommand } from './region.commands';

/** A replicator without a heartbeat for this long is shown as silent. */
const REPLICATOR_SILENT_AFTER_MS = 10_000;
/** An importer partition not reported for this long has no instance consuming it: `importer` leaves it out. */
const IMPORTER_SILENT_AFTER_MS = 30_000;

@ObjectType({ description: "How far the DC answering trails a peer: the mirror of the peer's events in the local cluster" })
export class ReplicationLag {
  @Field({
    description:
      'mirroring, starting, source-down, target-down, source-behind (the source DC was rebuilt and is being restored), source-replaced (rebuilt and not restored: nothing mirrored), or replicator-silent (no heartbeat for 10 s)',
  })
  state!: string;
  @Field(() => Int, { description: "Peer records not yet in this DC's cluster" }) records!: number;
  @Field(() => Int, {
    description: 'Age in ms of the oldest peer record not yet mirrored (0 when none); grows while the replicator is silent',
  })
  ms!: number;
  @Field({ description: "The replicator's latest heartbeat" }) lastSeen!: Date;
  @Field({ description: 'Records mirrored per second over the last 10 s' }) recordsPerSecond!: number;
}

@ObjectType({ description: "This DC's importer behind a peer: its mirrored events read into the event store" })
export class ImporterLag {
  @Field(() => Int, {
    description: "Records of the peer's mirrored apim.events this DC's importer has not read yet (as of each partition's last fetch)",
  })
  records!: number;
  @Field({ description: 'The latest report of the instances that import it (every 2 s)' }) lastSeen!: Date;
}

@ObjectType()
export class Region {
  @Field() dc!: string;
  @Field({ description: 'PRIMARY or STANDBY (active-passive), ACTIVE (active-active)' }) role!: string;
  @Field(() => Int) epoch!: number;
  @Field({ description: 'The DC that answered this query' }) local!: boolean;
  @Field({ description: 'The primary stopped taking writes for a switchover' }) fenced!: boolean;
  @Field(() => String, { nullable: true, description: 'For a fenced primary: the DC it is switching over to' }) switchoverTo!:
    string | null;
  @Field(() => ReplicationLag, {
    nullable: true,
    description: 'For a peer: how far the DC answering trails it (null for itself, or before any replicator heartbeat)',
  })
  replication!: ReplicationLag | null;
  @Field(() => ImporterLag, {
    nullable: true,
    description:
      'For a peer: how far the DC answering is from having its mirrored events in its store (null for itself, or with no importer report in the last 30 s)',
  })
  importer!: ImporterLag | null;
}

@ObjectType({ description: 'An event of a fenced epoch: refused by the primary that came after it, or moved out of this DC store' })
export class DivergentEvent {
  @Field(() => ID) eventId!: string;
  @Field() streamId!: string;
  @Field(() => Int) version!: number;
  @Field() type!: string;
  @Field() originDc!: string;
  @Field(() => Int, { description: 'The epoch it was written in' }) epoch!: number;
  @Field(() => Int, { description: 'The epoch whose primary refused it' }) fencedInEpoch!: number;
  @Field() reason!: string;
  @Field({ description: 'When this DC found it divergent' }) recordedAt!: Date;
}

@ObjectType({ description: 'One side of a conflict' })
export class ConflictSide {
  @Field({ description: 'The stream (STREAM_ID) or the API (API_CONTEXT)' }) id!: string;
  @Field({ description: 'The DC that made this claim' }) dc!: string;
  @Field({ description: "The claim: the stream's first event, or the API's api.created" }) eventId!: string;
}

@ObjectType({
  description:
    'A cross-DC uniqueness clash (active-active), resolved alike in every DC: the claim with the smaller event id (the earlier one) wins',
})
export class Conflict {
  @Field(() => ID) id!: string;
  @Field({ description: 'STREAM_ID (one id created in two DCs: a username, a policy, a subscription) or API_CONTEXT' }) kind!: string;
  @Field({ description: 'The stream id, or "<context> <version>"' }) key!: string;
  @Field(() => ConflictSide) winner!: ConflictSide;
  @Field(() => ConflictSide, {
    description: 'STREAM_ID: its events left every store (kept with the conflict). API_CONTEXT: the API stays, without the route',
  })
  loser!: ConflictSide;
  @Field({ description: 'When this DC detected it' }) detectedAt!: Date;
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
  @Field({ description: 'LIVE, or GONE when it stopped or was silent for longer than GATEWAY_GONE_AFTER_SECONDS' }) status!: string;
  @Field({ description: "The gateway's own readiness when last heard: ready, degraded, catching-up, not-ready, or stopped (it shut down)" })
  state!: string;
  @Field() startedAt!: Date;
  @Field() lastSeen!: Date;
  @Field(() => Int, { description: 'Records behind, summed over its partitions' }) lag!: number;
  @Field({ description: 'SHA-256 of its routing table: gateways with equal digests route alike' }) digest!: string;
  @Field(() => Date, { nullable: true, description: 'occurredAt of the last event it applied' }) lastEventAt!: Date | null;
  @Field(() => [GatewayPosition], { description: 'Applied position per partition' }) positions!: GatewayPosition[];
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
      status: row.state === 'stopped' || row.lastSeen.getTime() < goneBefore ? 'GONE' : 'LIVE',
    }));
    return includeGone ? gateways : gateways.filter((gateway) => gateway.status === 'LIVE');
  }

  @Authorized()
  @Query(() => [Region], { description: 'Every DC of the topology as this DC sees it' })
  async regions(): Promise<Region[]> {
    const region = await this.guard.region();
    const activeActive = this.config.REPLICATION_MODE === 'active-active';
    const now = Date.now();
    const replication = new Map(
      (await listReplication(this.db)).map((row) => {
        const silentFor = now - row.lastSeen.getTime();
        const silent = silentFor > REPLICATOR_SILENT_AFTER_MS;
        const lag: ReplicationLag = {
          state: silent ? 'replicator-silent' : row.state,
          records: row.lagRecords,
          ms: silent ? row.lagMs + silentFor : row.lagMs,
          lastSeen: row.lastSeen,
          recordsPerSecond: row.recordsPerSecond,
        };
        return [row.source, lag];
      }),
    );
    const imported = await importerLag(this.db, IMPORTER_SILENT_AFTER_MS);
    return this.config.allDcs.map((dc) => ({
      replication: dc === this.config.DC_ID ? null : (replication.get(dc) ?? null),
      importer: dc === this.config.DC_ID ? null : (imported.get(mirrorTopic(dc, TOPICS.events)) ?? null),
      dc,
      role: activeActive ? 'ACTIVE' : dc === region.effectivePrimary ? 'PRIMARY' : 'STANDBY',
      epoch: region.epoch,
      local: dc === this.config.DC_ID,
      fenced: !activeActive && dc === region.effectivePrimary && region.fenced,
      switchoverTo: !activeActive && dc === region.effectivePrimary && region.fenced ? region.successor : null,
    }));
  }

  @Authorized('ADMIN')
  @Query(() => [DivergentEvent], {
    description:
      'Events of fenced epochs this DC knows: written by an old primary after the promotion point, never applied. Oldest first, a page at a time (`after`: an eventId)',
  })
  async divergentEvents(@Args() request: PageRequest): Promise<DivergentEvent[]> {
    return listDivergentEvents(this.db, await pageClause(this.db, request, DIVERGENT_EVENTS_ORDER));
  }

  @Authorized('ADMIN')
  @Query(() => [Conflict], {
    description: 'Cross-DC uniqueness clashes this DC resolved (active-active). Newest first, a page at a time (`after`: a conflict id)',
  })
  async conflicts(@Args() request: PageRequest): Promise<Conflict[]> {
    return listConflicts(this.db, await pageClause(this.db, request, CONFLICTS_ORDER));
  }

  @Authorized('ADMIN')
  @Mutation(() => [Region], {
    description:
      'Planned switchover, sent to the primary: it stops taking writes at once, and `to` promotes itself as soon as it holds every event the primary wrote (no loss)',
  })
  async switchover(@Args('to') to: string, @RequestContext() context: CommandContext): Promise<Region[]> {
    await this.commands.execute(new SwitchoverCommand(to, context));
    return this.regions();
  }

  @Authorized('ADMIN')
  @Mutation(() => [Region], { description: 'Failover: makes `dc` the primary in a new epoch' })
  async promoteRegion(@Args('dc') dc: string, @RequestContext() context: CommandContext): Promise<Region[]> {
    await this.commands.execute(new PromoteRegionCommand(dc, context));
    return this.regions();
  }
}
