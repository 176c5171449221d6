import { Decider, DomainError, InputCheck, Message, NoData, unreachable } from '../shared';
import {
  ApiDefinition,
  ApiLifecycle,
  checkMutableFields,
  DEFAULT_OPERATIONS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  DEFAULT_VISIBILITY,
  isValidContext,
  isValidVersion,
  MutableApiFields,
  normaliseMutableFields,
  Operation,
  Visibility,
} from './api-definition';
import { assertContextAvailable, LiveApi } from './context-availability.policy';

/**
 * Drafts an API. Omitted fields take defaults: one catch-all operation behind
 * an API key, every available tier, public, a 30 s upstream timeout.
 * `availableTiers` (existing policies) and `liveApis` (for context uniqueness)
 * come from read models, loaded by the handler.
 */
export interface CreateApiData {
  name: string;
  version: string;
  context: string;
  upstreamUrls: readonly string[];
  upstreamTimeoutMs?: number;
  operations?: readonly Operation[];
  tiers?: readonly string[];
  visibility?: Visibility;
  throttlingPolicy?: string | null;
  availableTiers: readonly string[];
  liveApis: readonly LiveApi[];
}

/** Changes the fields given (at least one). `availableTiers` validates `tiers`. */
export type UpdateApiData = Partial<Readonly<MutableApiFields>> & { availableTiers: readonly string[] };

export type ApiCommand =
  | Message<'CreateApi', CreateApiData>
  | Message<'UpdateApi', UpdateApiData>
  | Message<'PublishApi', NoData>
  | Message<'DeprecateApi', NoData>
  | Message<'RetireApi', NoData>
  | Message<'BlockApi', NoData>
  | Message<'UnblockApi', NoData>;

/** `api.created` v2 payload; `throttlingPolicy` is absent in events written before it existed (read as null). */
export type ApiCreatedData = Omit<ApiDefinition, 'throttlingPolicy'> & { throttlingPolicy?: string | null };
/** `api.updated` v1 payload: the fields the update gave, nothing else. */
export type ApiUpdatedData = Partial<MutableApiFields>;

export type ApiEvent =
  | Message<'api.created', ApiCreatedData>
  | Message<'api.updated', ApiUpdatedData>
  | Message<'api.published', NoData>
  | Message<'api.deprecated', NoData>
  | Message<'api.retired', NoData>
  | Message<'api.blocked', NoData>
  | Message<'api.unblocked', NoData>;

/** State of an API stream; `EMPTY` before `api.created`. */
export type ApiState = { status: 'EMPTY' } | (ApiDefinition & { status: ApiLifecycle });

export function initialState(): ApiState {
  return { status: 'EMPTY' };
}

type LifecycleCommand = Exclude<ApiCommand['type'], 'CreateApi' | 'UpdateApi'>;

/** The lifecycle of docs/events.md as data: which states each command leaves, and what it emits. */
const TRANSITIONS: Record<
  LifecycleCommand,
  { from: readonly ApiLifecycle[]; emits: Exclude<ApiEvent['type'], 'api.created' | 'api.updated'> }
> = {
  PublishApi: { from: ['CREATED'], emits: 'api.published' },
  DeprecateApi: { from: ['PUBLISHED'], emits: 'api.deprecated' },
  RetireApi: { from: ['CREATED', 'PUBLISHED', 'DEPRECATED'], emits: 'api.retired' },
  BlockApi: { from: ['PUBLISHED'], emits: 'api.blocked' },
  UnblockApi: { from: ['BLOCKED'], emits: 'api.unblocked' },
};

export function decide(command: ApiCommand, state: ApiState): ApiEvent[] {
  if (command.type === 'CreateApi') return create(command.data, state);
  if (state.status === 'EMPTY') throw DomainError.notFound('API.NOT_FOUND', 'No such API');
  switch (command.type) {
    case 'UpdateApi':
      return update(command.data, state.status);
    case 'PublishApi':
    case 'DeprecateApi':
    case 'RetireApi':
    case 'BlockApi':
    case 'UnblockApi':
      return [transition(command.type, state.status)];
    default:
      return unreachable(command);
  }
}

function create(data: CreateApiData, state: ApiState): ApiEvent[] {
  if (state.status !== 'EMPTY') throw DomainError.conflict('API.ALREADY_EXISTS', 'This API already exists');
  const fields: MutableApiFields = {
    name: data.name,
    upstreamUrls: [...data.upstreamUrls],
    upstreamTimeoutMs: data.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    operations: [...(data.operations ?? DEFAULT_OPERATIONS)],
    tiers: [...(data.tiers ?? data.availableTiers)],
    visibility: data.visibility ?? DEFAULT_VISIBILITY,
    throttlingPolicy: data.throttlingPolicy ?? null,
  };
  checkMutableFields(fields, data.availableTiers, new InputCheck())
    .require(isValidContext(data.context), 'context', 'must be "/" followed by "/"-separated segments of 1..64 characters [a-z0-9-]')
    .require(isValidVersion(data.version), 'version', 'must be 1..32 characters [A-Za-z0-9.-]')
    .throwIfAny('API.INVALID_INPUT');
  assertContextAvailable(data.context, data.version, data.liveApis);
  const normalised = normaliseMutableFields(fields) as MutableApiFields;
  return [{ type: 'api.created', data: { ...normalised, version: data.version, context: data.context } }];
}

function update(data: UpdateApiData, status: ApiLifecycle): ApiEvent[] {
  if (status === 'RETIRED') throw DomainError.conflict('API.INVALID_TRANSITION', 'A retired API cannot be changed');
  const { availableTiers, ...fields } = data;
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<MutableApiFields>;
  if (Object.keys(given).length === 0) throw DomainError.badInput('API.INVALID_INPUT', 'An update must change at least one field', []);
  checkMutableFields(given, availableTiers, new InputCheck()).throwIfAny('API.INVALID_INPUT');
  return [{ type: 'api.updated', data: normaliseMutableFields(given) }];
}

function transition(command: LifecycleCommand, status: ApiLifecycle): ApiEvent {
  const { from, emits } = TRANSITIONS[command];
  if (!from.includes(status)) {
    throw DomainError.conflict('API.INVALID_TRANSITION', `${command} is not allowed for an API in state ${status}`);
  }
  return { type: emits, data: {} };
}

const STATUS_AFTER: Record<Exclude<ApiEvent['type'], 'api.created' | 'api.updated'>, ApiLifecycle> = {
  'api.published': 'PUBLISHED',
  'api.deprecated': 'DEPRECATED',
  'api.retired': 'RETIRED',
  'api.blocked': 'BLOCKED',
  'api.unblocked': 'PUBLISHED',
};

export function evolve(state: ApiState, event: ApiEvent): ApiState {
  switch (event.type) {
    case 'api.created':
      return { ...event.data, throttlingPolicy: event.data.throttlingPolicy ?? null, status: 'CREATED' };
    case 'api.updated':
      return state.status === 'EMPTY' ? state : { ...state, ...event.data };
    case 'api.published':
    case 'api.deprecated':
    case 'api.retired':
    case 'api.blocked':
    case 'api.unblocked':
      return state.status === 'EMPTY' ? state : { ...state, status: STATUS_AFTER[event.type] };
    default:
      return unreachable(event);
  }
}

/** The Api aggregate (streamType `api`, stream id = API id). */
export const apiDecider: Decider<ApiCommand, ApiEvent, ApiState> = { decide, evolve, initialState };
