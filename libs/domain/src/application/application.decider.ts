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

/** Renames an application or changes its tier; what is left out stays. `availablePolicies` as for creation. */
export interface UpdateApplicationData {
  name?: string;
  policy?: string;
  availablePolicies: readonly string[];
}

/** `application.updated` v1 payload: name and tier after the change. */
export interface ApplicationUpdatedData {
  name: string;
  policy: string;
}

export type ApplicationCommand =
  | Message<'CreateApplication', CreateApplicationData>
  | Message<'UpdateApplication', UpdateApplicationData>
  | Message<'DeleteApplication', Record<string, never>>;
export type ApplicationEvent =
  | Message<'application.created', ApplicationCreatedData>
  | Message<'application.updated', ApplicationUpdatedData>
  | Message<'application.deleted', Record<string, never>>;
/** A deleted application keeps its last name, owner and tier (for the record); nothing may be done with it. */
export type ApplicationState = { status: 'EMPTY' } | (ApplicationCreatedData & { status: 'CREATED' | 'DELETED' });

export const APPLICATION_NAME_MAX_LENGTH = 100;

export function initialState(): ApplicationState {
  return { status: 'EMPTY' };
}

export function decide(command: ApplicationCommand, state: ApplicationState): ApplicationEvent[] {
  switch (command.type) {
    case 'CreateApplication':
      return create(command.data, state);
    case 'UpdateApplication':
      return update(command.data, state);
    case 'DeleteApplication':
      assertLive(state);
      return [{ type: 'application.deleted', data: {} }];
    default:
      return unreachable(command);
  }
}

function create(data: CreateApplicationData, state: ApplicationState): ApplicationEvent[] {
  if (state.status !== 'EMPTY') throw DomainError.conflict('APPLICATION.ALREADY_EXISTS', 'This application already exists');
  const name = typeof data.name === 'string' ? data.name.trim() : '';
  const check = new InputCheck().require(isNonBlank(data.ownerId), 'ownerId', 'is required');
  requireNameAndPolicy(check, name, data.policy, data.availablePolicies).throwIfAny('APPLICATION.INVALID_INPUT');
  return [{ type: 'application.created', data: { ownerId: data.ownerId, name, policy: data.policy } }];
}

/** The same name and tier again records nothing (a retried request stays harmless). */
function update(data: UpdateApplicationData, state: ApplicationState): ApplicationEvent[] {
  assertLive(state);
  const name = data.name === undefined ? state.name : typeof data.name === 'string' ? data.name.trim() : '';
  const policy = data.policy ?? state.policy;
  const check = new InputCheck().require(data.name !== undefined || data.policy !== undefined, 'name', 'give a new name or a new policy');
  requireNameAndPolicy(check, name, data.policy ?? null, data.availablePolicies).throwIfAny('APPLICATION.INVALID_INPUT');
  if (name === state.name && policy === state.policy) return [];
  return [{ type: 'application.updated', data: { name, policy } }];
}

/** A deleted application is not found, as one that never was: its id is never reused. */
function assertLive(state: ApplicationState): asserts state is ApplicationCreatedData & { status: 'CREATED' } {
  if (state.status !== 'CREATED') throw DomainError.notFound('APPLICATION.NOT_FOUND', 'No such application');
}

/** An application's name, and its tier unless `policy` is null (not changing; the tier must exist), as created and as updated. */
function requireNameAndPolicy(check: InputCheck, name: string, policy: string | null, availablePolicies: readonly string[]): InputCheck {
  return check
    .require(name.length >= 1 && name.length <= APPLICATION_NAME_MAX_LENGTH, 'name', `must be 1..${APPLICATION_NAME_MAX_LENGTH} characters`)
    .require(policy === null || availablePolicies.includes(policy), 'policy', `must be one of: ${availablePolicies.join(', ')}`);
}

export function evolve(state: ApplicationState, event: ApplicationEvent): ApplicationState {
  switch (event.type) {
    case 'application.created':
      return { ...event.data, status: 'CREATED' };
    case 'application.updated':
      return state.status === 'EMPTY' ? state : { ...state, name: event.data.name, policy: event.data.policy };
    case 'application.deleted':
      return state.status === 'EMPTY' ? state : { ...state, status: 'DELETED' };
    default:
      return unreachable(event);
  }
}

/** The Application aggregate (streamType `application`, stream id = application id). */
export const applicationDecider: Decider<ApplicationCommand, ApplicationEvent, ApplicationState> = { decide, evolve, initialState };
