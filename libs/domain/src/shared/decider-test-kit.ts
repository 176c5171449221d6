/**
 * Test helpers for deciders, read as sentences:
 *   given(apiDecider, [created]).when(publish).then([published]);
 *   given(apiDecider, []).when(publish).thenThrows('API.NOT_FOUND');
 * Uses Jest's global `expect`, so it is imported by specs only and is not
 * re-exported from the library's index.
 */
import { Decider, replay } from './decider';
import { DomainError } from './domain-error';

export interface WhenStep<Event> {
  /** Asserts that the command is accepted and emits exactly `expected`. */
  then(expected: readonly Event[]): void;
  /** Asserts that the command is refused with `code` (and, if given, exactly these `fields`). */
  thenThrows(code: string, fields?: readonly string[]): DomainError;
}

export function given<Command, Event, State>(decider: Decider<Command, Event, State>, history: readonly Event[] = []) {
  return {
    when(command: Command): WhenStep<Event> {
      // Frozen so that a decider mutating its input fails the test instead of passing by luck.
      const decide = () => decider.decide(deepFreeze(command), deepFreeze(replay(decider, deepFreeze([...history]))));
      return {
        then(expected) {
          expect(decide()).toEqual(expected);
        },
        thenThrows(code, fields) {
          const error = catchError(decide);
          expect(error).toBeInstanceOf(DomainError);
          const domainError = error as DomainError;
          expect(domainError.code).toBe(code);
          if (fields) expect([...domainError.fields].sort()).toEqual([...fields].sort());
          return domainError;
        },
      };
    },
  };
}

/**
 * Runs `commands` one after the other, each against the state left by the
 * previous ones, and returns every emitted event with the state built step by step.
 */
export function run<Command, Event, State>(decider: Decider<Command, Event, State>, commands: readonly Command[]) {
  let state = deepFreeze(decider.initialState());
  const events: Event[] = [];
  for (const command of commands) {
    for (const event of decider.decide(command, state)) {
      events.push(deepFreeze(event));
      state = deepFreeze(decider.evolve(state, event));
    }
  }
  return { events, state };
}

/**
 * The fold property: the state built while deciding equals the state rebuilt
 * from the emitted events alone, which is what every command handler relies on.
 */
export function expectReplayToRebuildState<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  commands: readonly Command[],
): State {
  const { events, state } = run(decider, commands);
  const rebuilt = replay(decider, events);
  expect(rebuilt).toEqual(state);
  // Folding a second time must give the same answer: evolve keeps no hidden state.
  expect(replay(decider, events)).toEqual(rebuilt);
  return rebuilt;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused, but it was accepted');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
