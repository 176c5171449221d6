import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyDecider, policyStreamId } from '@apim/domain';
import { DataSource } from 'typeorm';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { ProjectionRunner } from '../../infrastructure/projections/projection-runner';
import { CreateThrottlingPolicyInput, ThrottlingPolicy, UpdateThrottlingPolicyInput } from '../api.types';

export class CreateThrottlingPolicyCommand extends Command<ThrottlingPolicy> {
  constructor(
    readonly input: CreateThrottlingPolicyInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(CreateThrottlingPolicyCommand)
export class CreateThrottlingPolicyHandler implements ICommandHandler<CreateThrottlingPolicyCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ input, context }: CreateThrottlingPolicyCommand): Promise<ThrottlingPolicy> {
    const data = { name: input.name, requestsPerMinute: input.requestsPerMinute, burst: input.burst ?? 0, unlimited: false };
    await this.repository.execute({
      decider: policyDecider,
      streamId: policyStreamId(input.name),
      streamType: 'policy',
      context,
      command: { type: 'CreatePolicy', data },
    });
    return data;
  }
}

export class UpdateThrottlingPolicyCommand extends Command<ThrottlingPolicy> {
  constructor(
    readonly input: UpdateThrottlingPolicyInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** A tier's new rate; the burst stays as it was unless given. Gateways apply it with the event. */
@CommandHandler(UpdateThrottlingPolicyCommand)
export class UpdateThrottlingPolicyHandler implements ICommandHandler<UpdateThrottlingPolicyCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ input, context }: UpdateThrottlingPolicyCommand): Promise<ThrottlingPolicy> {
    const { state } = await this.repository.execute({
      decider: policyDecider,
      streamId: policyStreamId(input.name),
      streamType: 'policy',
      context,
      command: ({ state: current }) => ({
        type: 'UpdatePolicy' as const,
        data: { requestsPerMinute: input.requestsPerMinute, burst: input.burst ?? (current.status === 'CREATED' ? current.burst : 0) },
      }),
    });
    if (state.status !== 'CREATED') throw new Error('unreachable: a policy stream after UpdatePolicy');
    return { name: state.name, requestsPerMinute: state.requestsPerMinute, burst: state.burst, unlimited: state.unlimited };
  }
}

export class DeleteThrottlingPolicyCommand extends Command<boolean> {
  constructor(
    readonly name: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * Deletes a tier nothing uses: no API that is not retired offers it or is
 * throttled by it, no application has it as its policy, no subscription is
 * on it. The read models are brought up to every event committed before the
 * check, so an API created a moment ago counts. Gateways drop the tier with
 * the event.
 */
@CommandHandler(DeleteThrottlingPolicyCommand)
export class DeleteThrottlingPolicyHandler implements ICommandHandler<DeleteThrottlingPolicyCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
    private readonly projections: ProjectionRunner,
  ) {}

  async execute({ name, context }: DeleteThrottlingPolicyCommand): Promise<boolean> {
    const streamId = policyStreamId(name);
    // The tier's name as created (reads match it exactly); a missing or deleted tier is the decider's to refuse.
    const { state } = await this.repository.load(policyDecider, streamId);
    let usedBy: string[] = [];
    if (state.status === 'CREATED') {
      await this.projections.catchUp();
      usedBy = await policyUsers(this.db, state.name);
    }
    await this.repository.execute({
      decider: policyDecider,
      streamId,
      streamType: 'policy',
      context,
      command: { type: 'DeletePolicy', data: { usedBy } },
    });
    return true;
  }
}

/** What still uses the tier `name`, e.g. `["2 APIs", "1 subscription"]`; empty when nothing does. */
async function policyUsers(db: DataSource, name: string): Promise<string[]> {
  const [counts] = (await db.query(
    `SELECT (SELECT count(*) FROM rm_apis WHERE state <> 'RETIRED' AND (tiers ? $1 OR throttling_policy = $1))::int AS apis,
            (SELECT count(*) FROM rm_applications WHERE deleted_at IS NULL AND policy = $1)::int AS applications,
            (SELECT count(*) FROM rm_subscriptions WHERE status <> 'REMOVED' AND tier = $1)::int AS subscriptions`,
    [name],
  )) as { apis: number; applications: number; subscriptions: number }[];
  const users: [number, string][] = [
    [counts.apis, 'API'],
    [counts.applications, 'application'],
    [counts.subscriptions, 'subscription'],
  ];
  return users.filter(([count]) => count > 0).map(([count, what]) => `${count} ${what}${count === 1 ? '' : 's'}`);
}
