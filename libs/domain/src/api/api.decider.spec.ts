import { NoData } from '../shared';
import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { ApiLifecycle } from './api-definition';
import { ApiCommand, apiDecider, ApiEvent, CreateApiData } from './api.decider';
import { assertContextAvailable, LiveApi } from './context-availability.policy';

const TIERS = ['Bronze', 'Silver', 'Gold', 'Unlimited'];

function createApi(overrides: Partial<CreateApiData> = {}): ApiCommand {
  return {
    type: 'CreateApi',
    data: {
      name: 'Payments',
      version: 'v1',
      context: '/payments',
      upstreamUrls: ['https://pay.internal'],
      availableTiers: TIERS,
      liveApis: [],
      ...overrides,
    },
  };
}

const created: ApiEvent = {
  type: 'api.created',
  data: {
    name: 'Payments',
    version: 'v1',
    context: '/payments',
    upstreamUrls: ['https://pay.internal'],
    upstreamTimeoutMs: 30000,
    operations: [{ method: '*', path: '/*', auth: 'apikey' }],
    tiers: TIERS,
    visibility: 'public',
    throttlingPolicy: null,
  },
};
const published: ApiEvent = { type: 'api.published', data: {} };
const deprecated: ApiEvent = { type: 'api.deprecated', data: {} };
const retired: ApiEvent = { type: 'api.retired', data: {} };
const blocked: ApiEvent = { type: 'api.blocked', data: {} };
const unblocked: ApiEvent = { type: 'api.unblocked', data: {} };

/** A history that leaves the API in each state. */
const HISTORY: Record<ApiLifecycle, ApiEvent[]> = {
  CREATED: [created],
  PUBLISHED: [created, published],
  DEPRECATED: [created, published, deprecated],
  RETIRED: [created, published, retired],
  BLOCKED: [created, published, blocked],
};

type LifecycleCommand = 'PublishApi' | 'DeprecateApi' | 'RetireApi' | 'BlockApi' | 'UnblockApi';
const lifecycle = (type: LifecycleCommand): ApiCommand => ({ type, data: {} as NoData });

/** docs/events.md, written out by hand so the test does not restate the decider's own table. */
const ALLOWED: [LifecycleCommand, ApiLifecycle, ApiEvent][] = [
  ['PublishApi', 'CREATED', published],
  ['DeprecateApi', 'PUBLISHED', deprecated],
  ['RetireApi', 'CREATED', retired],
  ['RetireApi', 'PUBLISHED', retired],
  ['RetireApi', 'DEPRECATED', retired],
  ['BlockApi', 'PUBLISHED', blocked],
  ['UnblockApi', 'BLOCKED', unblocked],
];
const COMMANDS: LifecycleCommand[] = ['PublishApi', 'DeprecateApi', 'RetireApi', 'BlockApi', 'UnblockApi'];
const STATES: ApiLifecycle[] = ['CREATED', 'PUBLISHED', 'DEPRECATED', 'RETIRED', 'BLOCKED'];
const REFUSED = COMMANDS.flatMap((command) =>
  STATES.filter((state) => !ALLOWED.some(([c, s]) => c === command && s === state)).map((state) => [command, state] as const),
);

describe('Api lifecycle', () => {
  it.each(ALLOWED)('accepts %s on an API in state %s', (command, state, event) => {
    given(apiDecider, HISTORY[state]).when(lifecycle(command)).then([event]);
  });

  it.each(REFUSED)('refuses %s on an API in state %s', (command, state) => {
    given(apiDecider, HISTORY[state]).when(lifecycle(command)).thenThrows('API.INVALID_TRANSITION');
  });

  it('reports an invalid transition as a conflict', () => {
    const error = given(apiDecider, HISTORY.RETIRED).when(lifecycle('PublishApi')).thenThrows('API.INVALID_TRANSITION');
    expect(error.kind).toBe('CONFLICT');
  });

  it.each(COMMANDS)('refuses %s on an API that does not exist', (command) => {
    const error = given(apiDecider, []).when(lifecycle(command)).thenThrows('API.NOT_FOUND');
    expect(error.kind).toBe('NOT_FOUND');
  });

  it('can be published again after being unblocked, and then deprecated', () => {
    given(apiDecider, [created, published, blocked, unblocked]).when(lifecycle('DeprecateApi')).then([deprecated]);
  });
});

describe('CreateApi', () => {
  it('drafts an API with the defaults: catch-all apikey operation, every available tier, public, 30 s timeout', () => {
    given(apiDecider, []).when(createApi()).then([created]);
  });

  it('keeps the operations, tiers, visibility and timeout it is given', () => {
    const operations = [
      { method: 'GET' as const, path: '/charges/{id}', auth: 'oauth2' as const },
      { method: 'POST' as const, path: '/charges', auth: 'apikey' as const },
      { method: 'GET' as const, path: '/', auth: 'none' as const },
    ];
    given(apiDecider, [])
      .when(
        createApi({
          operations,
          tiers: ['Gold'],
          visibility: 'private',
          upstreamTimeoutMs: 5000,
          upstreamUrls: ['http://a:8080', 'https://b'],
        }),
      )
      .then([
        {
          type: 'api.created',
          data: {
            ...created.data,
            operations,
            tiers: ['Gold'],
            visibility: 'private',
            upstreamTimeoutMs: 5000,
            upstreamUrls: ['http://a:8080', 'https://b'],
          },
        } as ApiEvent,
      ]);
  });

  it('trims the name', () => {
    given(apiDecider, [])
      .when(createApi({ name: '  Payments  ' }))
      .then([created]);
  });

  it('accepts a nested context such as /eu/payments', () => {
    given(apiDecider, [])
      .when(createApi({ context: '/eu/payments' }))
      .then([{ type: 'api.created', data: { ...created.data, context: '/eu/payments' } } as ApiEvent]);
  });

  it('accepts the timeout bounds 100 and 300000', () => {
    given(apiDecider, [])
      .when(createApi({ upstreamTimeoutMs: 100 }))
      .then([{ ...created, data: { ...created.data, upstreamTimeoutMs: 100 } } as ApiEvent]);
    given(apiDecider, [])
      .when(createApi({ upstreamTimeoutMs: 300000 }))
      .then([{ ...created, data: { ...created.data, upstreamTimeoutMs: 300000 } } as ApiEvent]);
  });

  it('refuses to create an API whose stream already exists', () => {
    given(apiDecider, [created]).when(createApi()).thenThrows('API.ALREADY_EXISTS');
  });

  it.each(['payments', '/Payments', '/payments/', '/', '/pay_ments', '//payments', `/${'a'.repeat(65)}`])(
    'refuses the context %j',
    (context) => {
      given(apiDecider, []).when(createApi({ context })).thenThrows('API.INVALID_INPUT', ['context']);
    },
  );

  it.each(['', 'v 1', 'v1/2', 'v'.repeat(33)])('refuses the version %j', (version) => {
    given(apiDecider, []).when(createApi({ version })).thenThrows('API.INVALID_INPUT', ['version']);
  });

  it.each([[[]], [['ftp://pay.internal']], [['not a url']], [['https://ok', '/relative']]])(
    'refuses the upstream URLs %j',
    (upstreamUrls) => {
      given(apiDecider, []).when(createApi({ upstreamUrls })).thenThrows('API.INVALID_INPUT', ['upstreamUrls']);
    },
  );

  it.each([99, 300001, 1000.5])('refuses an upstream timeout of %p ms', (upstreamTimeoutMs) => {
    given(apiDecider, []).when(createApi({ upstreamTimeoutMs })).thenThrows('API.INVALID_INPUT', ['upstreamTimeoutMs']);
  });

  it.each([
    ['an unknown method', { method: 'FETCH', path: '/x', auth: 'none' }],
    ['a path without a leading slash', { method: 'GET', path: 'charges', auth: 'none' }],
    ['a wildcard that is not the last segment', { method: 'GET', path: '/*/x', auth: 'none' }],
    ['an empty path segment', { method: 'GET', path: '/a//b', auth: 'none' }],
    ['an unknown auth', { method: 'GET', path: '/x', auth: 'basic' }],
  ])('refuses an operation with %s', (_why, operation) => {
    given(apiDecider, [])
      .when(createApi({ operations: [operation as never] }))
      .thenThrows('API.INVALID_INPUT', ['operations']);
  });

  it('refuses two operations with the same method and path', () => {
    const op = { method: 'GET' as const, path: '/x', auth: 'none' as const };
    given(apiDecider, [])
      .when(createApi({ operations: [op, { ...op, auth: 'apikey' }] }))
      .thenThrows('API.INVALID_INPUT', ['operations']);
  });

  it('refuses an empty list of tiers', () => {
    given(apiDecider, [])
      .when(createApi({ tiers: [] }))
      .thenThrows('API.INVALID_INPUT', ['tiers']);
  });

  it('refuses a tier that no throttling policy defines', () => {
    given(apiDecider, [])
      .when(createApi({ tiers: ['Platinum'] }))
      .thenThrows('API.INVALID_INPUT', ['tiers']);
  });

  it.each(['', '   ', 'x'.repeat(101)])('refuses the name %j', (name) => {
    given(apiDecider, []).when(createApi({ name })).thenThrows('API.INVALID_INPUT', ['name']);
  });

  it('takes a throttling policy for the API as a whole, and refuses one that does not exist', () => {
    given(apiDecider, [])
      .when(createApi({ throttlingPolicy: 'Silver' }))
      .then([{ type: 'api.created', data: { ...created.data, throttlingPolicy: 'Silver' } } as ApiEvent]);
    given(apiDecider, [])
      .when(createApi({ throttlingPolicy: 'Platinum' }))
      .thenThrows('API.INVALID_INPUT', ['throttlingPolicy']);
  });

  it('refuses an unknown visibility', () => {
    given(apiDecider, [])
      .when(createApi({ visibility: 'secret' as never }))
      .thenThrows('API.INVALID_INPUT', ['visibility']);
  });

  it('names every invalid field at once, as bad user input', () => {
    const error = given(apiDecider, [])
      .when(createApi({ context: 'nope', version: '', upstreamUrls: [] }))
      .thenThrows('API.INVALID_INPUT', ['context', 'version', 'upstreamUrls']);
    expect(error.kind).toBe('BAD_USER_INPUT');
  });
});

describe('CreateApi and context uniqueness', () => {
  const other = (state: ApiLifecycle, overrides: Partial<LiveApi> = {}): LiveApi => ({
    id: 'api-2',
    context: '/payments',
    version: 'v1',
    state,
    ...overrides,
  });

  it.each(['CREATED', 'PUBLISHED', 'DEPRECATED', 'BLOCKED'] as const)(
    'refuses a second API on a context and version held by a %s API',
    (state) => {
      const error = given(apiDecider, [])
        .when(createApi({ liveApis: [other(state)] }))
        .thenThrows('API.CONTEXT_TAKEN', ['context', 'version']);
      expect(error.kind).toBe('CONFLICT');
    },
  );

  it('accepts a context and version last used by a RETIRED API', () => {
    given(apiDecider, [])
      .when(createApi({ liveApis: [other('RETIRED')] }))
      .then([created]);
  });

  it('accepts another version on the same context', () => {
    given(apiDecider, [])
      .when(createApi({ liveApis: [other('PUBLISHED', { version: 'v2' })] }))
      .then([created]);
  });

  it('accepts the same version on another context', () => {
    given(apiDecider, [])
      .when(createApi({ liveApis: [other('PUBLISHED', { context: '/billing' })] }))
      .then([created]);
  });

  it('does not count the API being checked as a clash with itself', () => {
    expect(() => assertContextAvailable('/payments', 'v1', [other('PUBLISHED', { id: 'me' })], 'me')).not.toThrow();
  });
});

describe('UpdateApi', () => {
  it.each(['CREATED', 'PUBLISHED', 'DEPRECATED', 'BLOCKED'] as const)('changes the fields given on a %s API', (state) => {
    given(apiDecider, HISTORY[state])
      .when({ type: 'UpdateApi', data: { upstreamTimeoutMs: 1000, tiers: ['Gold', 'Gold'], availableTiers: TIERS } })
      .then([{ type: 'api.updated', data: { upstreamTimeoutMs: 1000, tiers: ['Gold'] } }]);
  });

  it('sets and removes the API throttling policy (null removes it)', () => {
    given(apiDecider, [created])
      .when({ type: 'UpdateApi', data: { throttlingPolicy: 'Gold', availableTiers: TIERS } })
      .then([{ type: 'api.updated', data: { throttlingPolicy: 'Gold' } }]);
    given(apiDecider, [created])
      .when({ type: 'UpdateApi', data: { throttlingPolicy: null, availableTiers: TIERS } })
      .then([{ type: 'api.updated', data: { throttlingPolicy: null } }]);
    given(apiDecider, [created])
      .when({ type: 'UpdateApi', data: { throttlingPolicy: 'Platinum', availableTiers: TIERS } })
      .thenThrows('API.INVALID_INPUT', ['throttlingPolicy']);
  });

  it('refuses to change a RETIRED API', () => {
    given(apiDecider, HISTORY.RETIRED)
      .when({ type: 'UpdateApi', data: { name: 'New', availableTiers: TIERS } })
      .thenThrows('API.INVALID_TRANSITION');
  });

  it('refuses to change an API that does not exist', () => {
    given(apiDecider, [])
      .when({ type: 'UpdateApi', data: { name: 'New', availableTiers: TIERS } })
      .thenThrows('API.NOT_FOUND');
  });

  it('refuses an update that changes nothing', () => {
    given(apiDecider, [created])
      .when({ type: 'UpdateApi', data: { availableTiers: TIERS } })
      .thenThrows('API.INVALID_INPUT');
  });

  it('refuses invalid values, naming their fields', () => {
    given(apiDecider, [created])
      .when({ type: 'UpdateApi', data: { upstreamUrls: ['mailto:x@y'], tiers: ['Platinum'], availableTiers: TIERS } })
      .thenThrows('API.INVALID_INPUT', ['upstreamUrls', 'tiers']);
  });
});

describe('Api evolve', () => {
  it('reads an api.created written before throttling policies existed as having none', () => {
    const { throttlingPolicy: _absent, ...older } = created.data as Extract<ApiEvent, { type: 'api.created' }>['data'];
    void _absent;
    const state = apiDecider.evolve(apiDecider.initialState(), { type: 'api.created', data: older });
    expect(state).toMatchObject({ status: 'CREATED', throttlingPolicy: null });
  });

  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    const state = expectReplayToRebuildState(apiDecider, [
      createApi(),
      { type: 'UpdateApi', data: { name: 'Payments 2', visibility: 'private', availableTiers: TIERS } },
      lifecycle('PublishApi'),
      lifecycle('BlockApi'),
      lifecycle('UnblockApi'),
      lifecycle('DeprecateApi'),
    ]);
    expect(state).toMatchObject({ status: 'DEPRECATED', name: 'Payments 2', visibility: 'private', context: '/payments' });
  });
});
