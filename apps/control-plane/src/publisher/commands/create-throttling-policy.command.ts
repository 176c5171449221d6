import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyDecider, policyStreamId } from '@apim/domain';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
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
    if (state.status === 'EMPTY') throw new Error('unreachable: a policy stream after UpdatePolicy');
    return { name: state.name, requestsPerMinute: state.requestsPerMinute, burst: state.burst, unlimited: state.unlimited };
  }
}
