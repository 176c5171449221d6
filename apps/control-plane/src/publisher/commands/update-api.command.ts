import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { apiDecider } from '@apim/domain';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { apiView } from '../api-views';
import { Api, domainApiFields, UpdateApiInput } from '../api.types';
import { policyNames } from '../policy-names';

export class UpdateApiCommand extends Command<Api> {
  constructor(
    readonly id: string,
    readonly input: UpdateApiInput,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(UpdateApiCommand)
export class UpdateApiHandler implements ICommandHandler<UpdateApiCommand> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly db: DataSource,
  ) {}

  async execute({ id, input, context }: UpdateApiCommand): Promise<Api> {
    const { expectedRevision, ...fields } = input;
    const result = await this.repository.execute({
      decider: apiDecider,
      streamId: id,
      streamType: 'api',
      context,
      expectedVersion: expectedRevision,
      command: async () => ({
        type: 'UpdateApi' as const,
        data: {
          ...domainApiFields(fields),
          availableTiers: await policyNames(this.db),
        },
      }),
    });
    return apiView(id, result);
  }
}
