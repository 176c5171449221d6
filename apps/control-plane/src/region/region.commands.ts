import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DomainError, REGION_STREAM_ID, RegionCommand, regionDecider } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext } from '../command-side/command-context';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { Queryable } from '../infrastructure/event-store/event-store';

/**
 * Every event `dc` wrote that this DC has seen: those in its store and those
 * moved aside or refused as divergent. Both ends of a switchover count alike,
 * so the successor holds everything the fenced primary wrote exactly when its
 * count reaches the primary's.
 */
export async function eventsOf(dc: string, db: Queryable): Promise<number> {
  const [row] = (await db.query(
    `SELECT (SELECT count(*) FROM events WHERE origin_dc = $1)
          + (SELECT count(*) FROM divergent_events d WHERE d.origin_dc = $1
                AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = d.event_id)) AS n`,
    [dc],
  )) as { n: string }[];
  return Number(row.n);
}

export class SwitchoverCommand extends Command<void> {
  constructor(
    readonly to: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * The first step of a planned switchover, run on the primary: it fences
 * itself (no write commits after the fence: see WriteGuard.lockRegion) and
 * records how many events it wrote, which its successor must hold before it
 * promotes itself.
 */
@CommandHandler(SwitchoverCommand)
export class SwitchoverHandler implements ICommandHandler<SwitchoverCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly config: ControlPlaneConfig,
  ) {}

  async execute({ to, context }: SwitchoverCommand): Promise<void> {
    if (this.config.REPLICATION_MODE === 'active-active')
      throw DomainError.badInput(
        'REGION.NO_PRIMARY_IN_ACTIVE_ACTIVE',
        'Every DC takes writes in active-active mode: there is nothing to switch over',
        [],
      );
    const dc = this.config.DC_ID;
    // The decider refuses unless this DC is the primary. The count runs under the exclusive region lock:
    // no write of this DC can commit between the count and the fence.
    await changeRegion(this.repository, context, async (tx) => ({
      type: 'FenceRegion',
      data: { dc, successor: to, eventsBefore: await eventsOf(dc, tx), knownDcs: this.config.allDcs },
    }));
  }
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
    await promoteRegion(this.repository, this.config, dc, context);
  }
}

/** Makes `dc` the primary in a new epoch (failover, the end of a switchover, and the initial primary's bootstrap). */
export function promoteRegion(
  repository: AggregateRepository,
  config: ControlPlaneConfig,
  dc: string,
  context: CommandContext,
): Promise<unknown> {
  return changeRegion(repository, context, async () => ({ type: 'PromoteRegion', data: { dc, knownDcs: config.allDcs } }));
}

/**
 * Appends to the region stream. Allowed on a read-only DC: a promotion is how
 * a standby stops being one, and a fenced primary may still be promoted again.
 */
function changeRegion(
  repository: AggregateRepository,
  context: CommandContext,
  command: (tx: Queryable) => Promise<RegionCommand>,
): Promise<unknown> {
  return repository.execute({
    decider: regionDecider,
    streamId: REGION_STREAM_ID,
    streamType: 'region',
    context,
    evenWhenReadOnly: true,
    command: (_loaded, tx) => command(tx),
  });
}
