import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { apiDecider, DomainError, LiveApi } from '@apim/domain';
import { newEventId } from '@apim/events';
import { AggregateRepository } from '../../command-side/aggregate-repository';
import { CommandContext } from '../../command-side/command-context';
import { Queryable } from '../../infrastructure/event-store/event-store';
import { apiView } from '../api-views';
import { Api, CreateApiInput, domainApiFields } from '../api.types';
import { policyNames } from '../policy-names';

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

/** Live APIs by context, from the claims table that every create and retire keeps in its own transaction. */
export async function liveApis(db: Queryable): Promise<LiveApi[]> {
  const rows = (await db.query(`SELECT api_id AS id, context, version FROM api_contexts`)) as Omit<LiveApi, 'state'>[];
  // Retiring releases the claim, so every claimed context is held by a live API.
  return rows.map((row) => ({ ...row, state: 'CREATED' }));
}

async function claimContext(tx: Queryable, apiId: string, context: string, version: string): Promise<void> {
  const rows = (await tx.query(
    `INSERT INTO api_contexts (context, version, api_id) VALUES ($1, $2, $3) ON CONFLICT (context, version) DO NOTHING RETURNING api_id`,
    [context, version, apiId],
  )) as unknown[];
  if (rows.length === 0)
    throw DomainError.conflict('API.CONTEXT_TAKEN', `Context ${context} version ${version} is already used by another API`, [
      'context',
      'version',
    ]);
}
