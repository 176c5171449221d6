import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import {
  apiDecider,
  applicationDecider,
  DomainError,
  SubscribeData,
  SubscriptionCommand,
  subscriptionDecider,
  subscriptionStreamId,
} from '@apim/domain';
import { newEventId } from '@apim/events';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext } from '../command-side/command-context';
import { policyNames } from '../publisher/policy-names';
import { Application, CreateApplicationInput, Subscription, UpdateApplicationInput } from './devportal.types';
import { ownedApplication } from './owned-application';

export class CreateApplicationCommand extends Command<Application> {
  constructor(
    readonly input: CreateApplicationInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(CreateApplicationCommand)
export class CreateApplicationHandler implements ICommandHandler<CreateApplicationCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
  ) {}

  async execute({ input, context }: CreateApplicationCommand): Promise<Application> {
    const id = newEventId();
    const ownerId = context.user!.userId;
    const policy = input.policy ?? 'Unlimited';
    const result = await this.repository.execute({
      decider: applicationDecider,
      streamId: id,
      streamType: 'application',
      context,
      command: async () => ({
        type: 'CreateApplication' as const,
        data: { ownerId, name: input.name, policy, availablePolicies: await policyNames(this.db) },
      }),
    });
    return { id, name: input.name, policy, ownerId, homeDc: result.stored[0].originDc };
  }
}

export class UpdateApplicationCommand extends Command<Application> {
  constructor(
    readonly applicationId: string,
    readonly input: UpdateApplicationInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Renames an application or changes its tier: its owner or an ADMIN. Gateways apply a new tier with the event. */
@CommandHandler(UpdateApplicationCommand)
export class UpdateApplicationHandler implements ICommandHandler<UpdateApplicationCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
  ) {}

  async execute({ applicationId, input, context }: UpdateApplicationCommand): Promise<Application> {
    await ownedApplication(this.repository, applicationId, context.user);
    const { state, before } = await this.repository.execute({
      decider: applicationDecider,
      streamId: applicationId,
      streamType: 'application',
      context,
      command: async () => ({
        type: 'UpdateApplication' as const,
        data: { name: input.name, policy: input.policy, availablePolicies: await policyNames(this.db) },
      }),
    });
    if (state.status !== 'CREATED') throw new Error('unreachable: an application stream after UpdateApplication');
    return { id: applicationId, name: state.name, policy: state.policy, ownerId: state.ownerId, homeDc: before.events[0].originDc };
  }
}

export class DeleteApplicationCommand extends Command<boolean> {
  constructor(
    readonly applicationId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * Deletes an application: its owner or an ADMIN. One event; gateways,
 * projections and the token endpoint derive the rest (subscriptions end, keys
 * and OAuth2 clients are revoked, tokens are refused).
 */
@CommandHandler(DeleteApplicationCommand)
export class DeleteApplicationHandler implements ICommandHandler<DeleteApplicationCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ applicationId, context }: DeleteApplicationCommand): Promise<boolean> {
    await ownedApplication(this.repository, applicationId, context.user);
    await this.repository.execute({
      decider: applicationDecider,
      streamId: applicationId,
      streamType: 'application',
      context,
      command: { type: 'DeleteApplication', data: {} },
    });
    return true;
  }
}

export class SubscribeCommand extends Command<Subscription> {
  constructor(
    readonly applicationId: string,
    readonly apiId: string,
    readonly tier: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(SubscribeCommand)
export class SubscribeHandler implements ICommandHandler<SubscribeCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ applicationId, apiId, tier, context }: SubscribeCommand): Promise<Subscription> {
    const facts = await subscriptionFacts(this.repository, applicationId, apiId, context);
    const id = subscriptionStreamId(applicationId, apiId);
    await this.repository.execute({
      decider: subscriptionDecider,
      streamId: id,
      streamType: 'subscription',
      context,
      command: { type: 'Subscribe', data: { applicationId, apiId, tier, ...facts } },
    });
    return { id, applicationId, apiId, tier, status: 'ACTIVE' };
  }
}

export class UnsubscribeCommand extends Command<Subscription> {
  constructor(
    readonly applicationId: string,
    readonly apiId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(UnsubscribeCommand)
export class UnsubscribeHandler implements ICommandHandler<UnsubscribeCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ applicationId, apiId, context }: UnsubscribeCommand): Promise<Subscription> {
    const application = await ownedApplication(this.repository, applicationId, context.user);
    return changeSubscription(this.repository, applicationId, apiId, context, {
      type: 'Unsubscribe',
      data: { application: { ownerId: application.ownerId }, actor: { userId: context.user!.userId, roles: context.user!.roles } },
    });
  }
}

export class ChangeSubscriptionTierCommand extends Command<Subscription> {
  constructor(
    readonly applicationId: string,
    readonly apiId: string,
    readonly tier: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Moves a subscription to another tier its API offers (its owner or an ADMIN): gateways size its bucket by the new tier. */
@CommandHandler(ChangeSubscriptionTierCommand)
export class ChangeSubscriptionTierHandler implements ICommandHandler<ChangeSubscriptionTierCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ applicationId, apiId, tier, context }: ChangeSubscriptionTierCommand): Promise<Subscription> {
    const facts = await subscriptionFacts(this.repository, applicationId, apiId, context);
    return changeSubscription(this.repository, applicationId, apiId, context, { type: 'ChangeSubscriptionTier', data: { tier, ...facts } });
  }
}

/**
 * What the subscription decider is told about the API (its state and tiers),
 * the application (its owner) and who asks. The application must exist and
 * be the asker's, or the asker an ADMIN; the API must exist.
 */
async function subscriptionFacts(
  repository: AggregateRepository,
  applicationId: string,
  apiId: string,
  context: CommandContext,
): Promise<Pick<SubscribeData, 'api' | 'application' | 'actor'>> {
  const application = await ownedApplication(repository, applicationId, context.user);
  const api = (await repository.load(apiDecider, apiId)).state;
  if (api.status === 'EMPTY') throw DomainError.notFound('API.NOT_FOUND', `No API ${apiId}`);
  return {
    api: { state: api.status, tiers: api.tiers },
    application: { ownerId: application.ownerId },
    actor: { userId: context.user!.userId, roles: context.user!.roles },
  };
}

/** Runs `command` on an existing subscription and returns it as it is now. */
async function changeSubscription(
  repository: AggregateRepository,
  applicationId: string,
  apiId: string,
  context: CommandContext,
  command: SubscriptionCommand,
): Promise<Subscription> {
  const id = subscriptionStreamId(applicationId, apiId);
  const { state } = await repository.execute({ decider: subscriptionDecider, streamId: id, streamType: 'subscription', context, command });
  if (state.status === 'EMPTY') throw new Error(`unreachable: an empty subscription after ${command.type}`);
  return { id, applicationId, apiId, tier: state.tier, status: state.status };
}

export class SetSubscriptionBlockedCommand extends Command<Subscription> {
  constructor(
    readonly applicationId: string,
    readonly apiId: string,
    readonly blocked: boolean,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * Blocks a subscription (gateways answer the application 403 on that API) or
 * lifts the block: the publisher's lever against one misbehaving application,
 * short of blocking the API for everyone. Roles are checked by the resolver.
 */
@CommandHandler(SetSubscriptionBlockedCommand)
export class SetSubscriptionBlockedHandler implements ICommandHandler<SetSubscriptionBlockedCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  execute({ applicationId, apiId, blocked, context }: SetSubscriptionBlockedCommand): Promise<Subscription> {
    return changeSubscription(this.repository, applicationId, apiId, context, {
      type: blocked ? 'BlockSubscription' : 'UnblockSubscription',
      data: {},
    });
  }
}
