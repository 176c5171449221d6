import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { policyDecider, policyStreamId } from '@apim/domain';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { CreateThrottlingPolicyInput, ThrottlingPolicy } from '../api.types';

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
