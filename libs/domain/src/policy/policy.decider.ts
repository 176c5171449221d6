import { Decider, DomainError, InputCheck, isIntInRange, Message, unreachable } from '../shared';

/** `policy.created` v1 payload: a throttling tier. `requestsPerMinute` is ignored when `unlimited`. */
export interface PolicyCreatedData {
  name: string;
  requestsPerMinute: number;
  burst: number;
  unlimited: boolean;
}

/** Defines a throttling tier. The stream id is `policyStreamId(name)`, so names are unique case-insensitively. */
export type CreatePolicyData = PolicyCreatedData;

/** A throttling tier's new rate (an unlimited tier has none to change). */
export interface UpdatePolicyData {
  requestsPerMinute: number;
  burst: number;
}

/** `policy.updated` v1 payload: the policy as it is after the change (`name` and `unlimited` as before). */
export type PolicyUpdatedData = PolicyCreatedData;

/**
 * Deletes a throttling tier that nothing uses any more. The handler says
 * what still uses it, from the read models (e.g. `2 APIs`); empty: nothing.
 */
export interface DeletePolicyData {
  usedBy: readonly string[];
}

/** `policy.deleted` v1 payload: the name of the tier, which may be created again. */
export interface PolicyDeletedData {
  name: string;
}

/** The policy every application gets when its owner names none: it cannot be deleted. */
export const DEFAULT_APPLICATION_POLICY = 'Unlimited';

export type PolicyCommand =
  Message<'CreatePolicy', CreatePolicyData> | Message<'UpdatePolicy', UpdatePolicyData> | Message<'DeletePolicy', DeletePolicyData>;
export type PolicyEvent =
  | Message<'policy.created', PolicyCreatedData>
  | Message<'policy.updated', PolicyUpdatedData>
  | Message<'policy.deleted', PolicyDeletedData>;
export type PolicyState = { status: 'EMPTY' } | (PolicyCreatedData & { status: 'CREATED' }) | { status: 'DELETED'; name: string };

/** A policy's name as the domain takes it (the GraphQL input for a new one is stricter). */
export const POLICY_NAME = /^[A-Za-z0-9 _-]{1,40}$/;

/**
 * The rate an unlimited policy records: the contract wants an int >= 1 even when
 * it is ignored, and the largest PostgreSQL `integer` keeps a consumer that
 * forgot the flag effectively unlimited.
 */
export const UNLIMITED_REQUESTS_PER_MINUTE = 2147483647;

/** The tiers seeded once per installation (docs/events.md). */
export const DEFAULT_POLICIES: readonly Readonly<PolicyCreatedData>[] = [
  { name: 'Bronze', requestsPerMinute: 1000, burst: 100, unlimited: false },
  { name: 'Silver', requestsPerMinute: 5000, burst: 500, unlimited: false },
  { name: 'Gold', requestsPerMinute: 20000, burst: 2000, unlimited: false },
  { name: 'Unlimited', requestsPerMinute: UNLIMITED_REQUESTS_PER_MINUTE, burst: 0, unlimited: true },
];

/** Stream id of a policy: `policy:<lower name>`, which makes a duplicate name a stream clash. */
export function policyStreamId(name: string): string {
  return `policy:${name.trim().toLowerCase()}`;
}

export function initialState(): PolicyState {
  return { status: 'EMPTY' };
}

export function decide(command: PolicyCommand, state: PolicyState): PolicyEvent[] {
  switch (command.type) {
    case 'CreatePolicy':
      return create(command.data, state);
    case 'UpdatePolicy':
      return update(command.data, state);
    case 'DeletePolicy':
      return remove(command.data, state);
    default:
      return unreachable(command);
  }
}

function create(data: CreatePolicyData, state: PolicyState): PolicyEvent[] {
  // A deleted tier's name may be taken again.
  if (state.status === 'CREATED') throw DomainError.conflict('POLICY.ALREADY_EXISTS', `Policy ${state.name} already exists`, ['name']);
  const name = typeof data.name === 'string' ? data.name.trim() : '';
  const check = new InputCheck()
    .require(POLICY_NAME.test(name), 'name', 'must be 1..40 characters [A-Za-z0-9 _-]')
    .require(typeof data.unlimited === 'boolean', 'unlimited', 'must be true or false');
  requireRate(check, data.requestsPerMinute, data.burst, data.unlimited === true).throwIfAny('POLICY.INVALID_INPUT');
  const { burst, unlimited } = data;
  const requestsPerMinute = unlimited && !isIntInRange(data.requestsPerMinute, 1) ? UNLIMITED_REQUESTS_PER_MINUTE : data.requestsPerMinute;
  return [{ type: 'policy.created', data: { name, requestsPerMinute, burst, unlimited } }];
}

/** Changes the rate of a tier. The same rate again records nothing (a retried request stays harmless). */
function update(data: UpdatePolicyData, state: PolicyState): PolicyEvent[] {
  if (state.status !== 'CREATED') throw DomainError.notFound('POLICY.NOT_FOUND', 'No such throttling policy');
  if (state.unlimited) throw DomainError.conflict('POLICY.UNLIMITED', `Policy ${state.name} is unlimited: it has no rate to change`, []);
  requireRate(new InputCheck(), data.requestsPerMinute, data.burst, false).throwIfAny('POLICY.INVALID_INPUT');
  if (data.requestsPerMinute === state.requestsPerMinute && data.burst === state.burst) return [];
  const { name, unlimited } = state;
  return [{ type: 'policy.updated', data: { name, requestsPerMinute: data.requestsPerMinute, burst: data.burst, unlimited } }];
}

/** Deletes a tier: never the default application policy, nor one that something still uses. */
function remove(data: DeletePolicyData, state: PolicyState): PolicyEvent[] {
  if (state.status !== 'CREATED') throw DomainError.notFound('POLICY.NOT_FOUND', 'No such throttling policy');
  if (state.name.toLowerCase() === DEFAULT_APPLICATION_POLICY.toLowerCase()) {
    throw DomainError.conflict('POLICY.PROTECTED', `${state.name} is the default policy of applications: it cannot be deleted`, []);
  }
  if (data.usedBy.length > 0) {
    throw DomainError.conflict('POLICY.IN_USE', `Policy ${state.name} is still used by ${data.usedBy.join(', ')}`, []);
  }
  return [{ type: 'policy.deleted', data: { name: state.name } }];
}

/** The rate of a tier, as created and as updated (an unlimited tier's rate is not checked). */
function requireRate(check: InputCheck, requestsPerMinute: number, burst: number, unlimited: boolean): InputCheck {
  return check
    .require(unlimited || isIntInRange(requestsPerMinute, 1), 'requestsPerMinute', 'must be an integer >= 1')
    .require(isIntInRange(burst, 0), 'burst', 'must be an integer >= 0');
}

export function evolve(state: PolicyState, event: PolicyEvent): PolicyState {
  switch (event.type) {
    case 'policy.created':
      return { ...event.data, status: 'CREATED' };
    case 'policy.updated':
      return state.status !== 'CREATED' ? state : { ...state, requestsPerMinute: event.data.requestsPerMinute, burst: event.data.burst };
    case 'policy.deleted':
      return { status: 'DELETED', name: event.data.name };
    default:
      return unreachable(event);
  }
}

/** The ThrottlingPolicy aggregate (streamType `policy`, stream id `policyStreamId(name)`). */
export const policyDecider: Decider<PolicyCommand, PolicyEvent, PolicyState> = { decide, evolve, initialState };
