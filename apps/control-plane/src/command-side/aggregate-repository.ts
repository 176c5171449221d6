import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Decider, Message, REGION_STREAM_ID } from '@apim/domain';
import { catalogueEntry, StreamType } from '@apim/events';
import { Queryable, StoredEvent } from '../infrastructure/event-store/event-store';
import { OutboxRelay } from '../infrastructure/outbox/outbox-relay';
import { ProjectionRunner } from '../infrastructure/projections/projection-runner';
import { PostgresEventStore } from '../infrastructure/event-store/postgres-event-store';
import { CommandContext } from './command-context';
import { foldStream } from './fold-stream';
import { WriteGuard } from './write-guard';

/** A stream folded into its decider's state. */
export interface Loaded<State> {
  state: State;
  /** Stream version (0: the stream does not exist). */
  version: number;
  events: StoredEvent[];
}

export interface ExecuteOptions<Command, Event extends Message<string, unknown>, State> {
  decider: Decider<Command, Event, State>;
  streamId: string;
  streamType: StreamType;
  /** The command, or a function of the loaded state that builds it (for commands that need the state), run in the transaction. */
  command: Command | ((loaded: Loaded<State>, tx: Queryable) => Command | Promise<Command>);
  context: CommandContext;
  /** Optimistic concurrency from the client: refuse unless the stream is still at this version. */
  expectedVersion?: number;
  /**
   * Allowed on a standby too: this DC's own signing keys (a stream no other DC
   * writes) and the promotion that ends a standby's read-only state.
   */
  evenWhenReadOnly?: boolean;
  /** Extra writes that must commit or fail together with the events (uniqueness claims, secrets). */
  alongside?: (tx: Queryable, loaded: Loaded<State>, events: Event[]) => Promise<void>;
}

export interface Executed<State, Event> {
  before: Loaded<State>;
  state: State;
  version: number;
  events: Event[];
  stored: StoredEvent[];
}

/**
 * The one generic command handler of the decider pattern: read the stream,
 * fold it, decide, append at the version read, in one transaction. A stream
 * that moved in between is a ConcurrencyError (GraphQL CONFLICT).
 */
@Injectable()
export class AggregateRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PostgresEventStore,
    private readonly writeGuard: WriteGuard,
    private readonly relay: OutboxRelay,
    private readonly projections: ProjectionRunner,
  ) {}

  async load<Command, Event extends Message<string, unknown>, State>(
    decider: Decider<Command, Event, State>,
    streamId: string,
    tx?: Queryable,
  ): Promise<Loaded<State>> {
    const events = await this.store.readStream(streamId, tx);
    return { state: foldStream(decider, events), version: events.length === 0 ? 0 : events[events.length - 1].version, events };
  }

  async execute<Command, Event extends Message<string, unknown>, State>(
    options: ExecuteOptions<Command, Event, State>,
  ): Promise<Executed<State, Event>> {
    const executed = await this.dataSource.transaction(async (manager) => {
      const tx = manager as unknown as Queryable;
      const region = await this.writeGuard.lockRegion(tx, options.streamId === REGION_STREAM_ID ? 'change-region' : 'write');
      const epoch = options.evenWhenReadOnly ? region.epoch : this.writeGuard.assertWritable(region);
      const before = await this.load(options.decider, options.streamId, tx);
      this.writeGuard.assertHome(region, options.streamId, before.events[0]);
      if (options.expectedVersion !== undefined && options.expectedVersion !== before.version)
        throw new StaleRevisionError(options.streamId, options.expectedVersion, before.version);
      const command =
        typeof options.command === 'function'
          ? await (options.command as (l: Loaded<State>, tx: Queryable) => Command | Promise<Command>)(before, tx)
          : options.command;
      const events = options.decider.decide(command, before.state);
      await options.alongside?.(tx, before, events);
      const stored = await this.store.append(
        options.streamId,
        options.streamType,
        before.version,
        events.map((event) => ({ type: event.type, schemaVersion: currentSchemaVersion(event.type), payload: event.data })),
        {
          originDc: this.writeGuard.dc,
          epoch,
          correlationId: options.context.correlationId,
          actor: options.context.user?.userId ?? 'system',
        },
        tx,
      );
      const state = events.reduce(options.decider.evolve, before.state);
      return { before, state, version: before.version + events.length, events, stored };
    });
    // Committed: the relay and the projections take the events now, not at their next poll (up to 50 ms later).
    this.relay.wake();
    this.projections.wake();
    return executed;
  }
}

/** The client's `expectedRevision` is behind the stream: someone else changed it first. */
export class StaleRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`expected revision ${expected}, but it is at revision ${actual}: reload and retry`);
    this.name = 'StaleRevisionError';
  }
}

function currentSchemaVersion(type: string): number {
  const entry = catalogueEntry(type);
  if (!entry) throw new Error(`event type ${type} is not in the catalogue`);
  return entry.current;
}
