import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { apiDecider } from '@apim/domain';
import { newEventId } from '@apim/events';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { apiView } from '../api-views';
import { Api, CreateApiInput, domainApiFields } from '../api.types';
import { policyNames } from '../policy-names';
import { claimContext, liveApis } from './context-claims';

export class CreateApiCommand extends Command<Api> {
  constructor(
    readonly input: CreateApiInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(CreateApiCommand)
export class CreateApiHandler implements ICommandHandler<CreateApiCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
  ) {}

  async execute({ input, context }: CreateApiCommand): Promise<Api> {
    const id = newEventId();
    const result = await this.repository.execute({
      decider: apiDecider,
      streamId: id,
      streamType: 'api',
      context,
      command: async () => ({
        type: 'CreateApi' as const,
        data: {
          ...domainApiFields(input),
          availableTiers: await policyNames(this.db),
          liveApis: await liveApis(this.db),
        },
      }),
      // The claim commits with the event: two creates racing for one context cannot both win.
      alongside: async (tx, _loaded, events) => {
        const created = events.find((event) => event.type === 'api.created');
        if (created) await claimContext(tx, id, created.data.context, created.data.version);
      },
    });
    return apiView(id, result);
  }
}
