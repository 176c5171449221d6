/**
 * A command or an event as plain data: a stable string tag and a payload.
 * Plain objects (not classes) so they survive JSON round-trips unchanged.
 */
export interface Message<Type extends string, Data> {
  readonly type: Type;
  readonly data: Data;
}

/** Payload of the commands and events that carry nothing beyond their type. */
export type NoData = Record<string, never>;

/**
 * An aggregate as three pure functions (the "decider" pattern).
 * - `decide` turns a command into the events to append, or throws a DomainError;
 * - `evolve` applies one event to the state and must never throw, because
 *   the events are facts that already happened;
 * - `initialState` is the state of an empty stream.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Folds a stream's events into its current state, as a command handler does before `decide`. */
export function replay<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
  from: State = decider.initialState(),
): State {
  return events.reduce(decider.evolve, from);
}

/**
 * Ends a `switch` over a tagged union: the compiler rejects the call if a case
 * is missing, and at run time it catches data that escaped the type system.
 * Pass the tag (`command.type`): TypeScript narrows the object of a
 * one-member union to `never` only through its tag.
 */
export function unreachable(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
