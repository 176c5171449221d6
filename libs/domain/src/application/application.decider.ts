import { Decider, DomainError, InputCheck, isNonBlank, Message, unreachable } from '../shared';

/** `application.created` v1 payload. `policy` is the application-level throttling tier. */
export interface ApplicationCreatedData {
  ownerId: string;
  name: string;
  policy: string;
}

/**
 * Registers a developer's application. `ownerId` is the acting user;
 * `availablePolicies` (existing policy names) comes from a read model.
 */
export interface CreateApplicationData {
  ownerId: string;
  name: string;
  policy: string;
  availablePolicies: readonly string[];
}

export type ApplicationCommand = Message<'CreateApplication', CreateApplicationData>;
export type ApplicationEvent = Message<'application.created', ApplicationCreatedData>;
export type ApplicationState = { status: 'EMPTY' } | (ApplicationCreatedData & { status: 'CREATED' });

export const APPLICATION_NAME_MAX_LENGTH = 100;

export function initialState(): ApplicationState {
  return { status: 'EMPTY' };
}

export function decide(command: ApplicationCommand, state: ApplicationState): ApplicationEvent[] {
  switch (command.type) {
    case 'CreateApplication':
      return create(command.data, state);
    default:
      return unreachable(command.type);
  }
}

function create(data: CreateApplicationData, state: ApplicationState): ApplicationEvent[] {
  if (state.status !== 'EMPTY') throw DomainError.conflict('APPLICATION.ALREADY_EXISTS', 'This application already exists');
  const name = typeof data.name === 'string' ? data.name.trim() : '';
  new InputCheck()
    .require(isNonBlank(data.ownerId), 'ownerId', 'is required')
    .require(name.length >= 1 && name.length <= APPLICATION_NAME_MAX_LENGTH, 'name', `must be 1..${APPLICATION_NAME_MAX_LENGTH} characters`)
    .require(data.availablePolicies.includes(data.policy), 'policy', `must be one of: ${data.availablePolicies.join(', ')}`)
    .throwIfAny('APPLICATION.INVALID_INPUT');
  return [{ type: 'application.created', data: { ownerId: data.ownerId, name, policy: data.policy } }];
}

export function evolve(_state: ApplicationState, event: ApplicationEvent): ApplicationState {
  switch (event.type) {
    case 'application.created':
      return { ...event.data, status: 'CREATED' };
    default:
      return unreachable(event.type);
  }
}

/** The Application aggregate (streamType `application`, stream id = application id). */
export const applicationDecider: Decider<ApplicationCommand, ApplicationEvent, ApplicationState> = { decide, evolve, initialState };
