import { Decider, Message } from '@apim/domain';
import { upcastStoredPayload } from '@apim/events';
import { StoredEvent } from '../infrastructure/event-store/event-store';

/** A stored event as its decider knows it: `{ type, data }` at the current schema. */
export function toDomainEvent<Event>(event: StoredEvent): Event {
  return { type: event.type, data: upcastStoredPayload(event.type, event.schemaVersion, event.payload).payload } as Event;
}

/** Folds a stream's stored events into its decider's state. */
export function foldStream<Command, Event extends Message<string, unknown>, State>(
  decider: Decider<Command, Event, State>,
  events: readonly StoredEvent[],
): State {
  return events.reduce((state, event) => decider.evolve(state, toDomainEvent<Event>(event)), decider.initialState());
}
