import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { apiDecider, ApiCommand } from '@apim/domain';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { apiView } from '../api-views';
import { Api, LifecycleAction } from '../api.types';
import { releaseContext } from './context-claims';

const COMMANDS: Record<LifecycleAction, Exclude<ApiCommand['type'], 'CreateApi' | 'UpdateApi'>> = {
  [LifecycleAction.PUBLISH]: 'PublishApi',
  [LifecycleAction.DEPRECATE]: 'DeprecateApi',
  [LifecycleAction.RETIRE]: 'RetireApi',
  [LifecycleAction.BLOCK]: 'BlockApi',
  [LifecycleAction.UNBLOCK]: 'UnblockApi',
};

export class ChangeApiLifecycleCommand extends Command<Api> {
  constructor(
    readonly id: string,
    readonly action: LifecycleAction,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(ChangeApiLifecycleCommand)
export class ChangeApiLifecycleHandler implements ICommandHandler<ChangeApiLifecycleCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ id, action, context }: ChangeApiLifecycleCommand): Promise<Api> {
    const result = await this.repository.execute({
      decider: apiDecider,
      streamId: id,
      streamType: 'api',
      context,
      command: { type: COMMANDS[action], data: {} },
      // A retired API gives its context and version back, in the same transaction.
      alongside: async (tx, _loaded, events) => {
        if (events.some((event) => event.type === 'api.retired')) await releaseContext(tx, id);
      },
    });
    return apiView(id, result);
  }
}
