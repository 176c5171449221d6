import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import {
  CreatePolicyData,
  DEFAULT_POLICIES,
  policyDecider,
  PolicyEvent,
  policyStreamId,
  UNLIMITED_REQUESTS_PER_MINUTE,
} from './policy.decider';

const createPolicy = (overrides: Partial<CreatePolicyData> = {}) => ({
  type: 'CreatePolicy' as const,
  data: { name: 'Gold', requestsPerMinute: 20000, burst: 2000, unlimited: false, ...overrides },
});
const goldCreated: PolicyEvent = {
  type: 'policy.created',
  data: { name: 'Gold', requestsPerMinute: 20000, burst: 2000, unlimited: false },
};

describe('UpdatePolicy', () => {
  const updatePolicy = (requestsPerMinute: number, burst: number) => ({
    type: 'UpdatePolicy' as const,
    data: { requestsPerMinute, burst },
  });

  it('records the new rate with the name and the unlimited flag as they were', () => {
    given(policyDecider, [goldCreated])
      .when(updatePolicy(30000, 0))
      .then([{ type: 'policy.updated', data: { name: 'Gold', requestsPerMinute: 30000, burst: 0, unlimited: false } }]);
  });

  it('records nothing for the rate it already has', () => {
    given(policyDecider, [goldCreated]).when(updatePolicy(20000, 2000)).then([]);
  });

  it('refuses a policy that does not exist, an unlimited one, and a rate out of range', () => {
    given(policyDecider, []).when(updatePolicy(1, 0)).thenThrows('POLICY.NOT_FOUND');
    const unlimited: PolicyEvent = { type: 'policy.created', data: { ...DEFAULT_POLICIES[3] } };
    given(policyDecider, [unlimited]).when(updatePolicy(1, 0)).thenThrows('POLICY.UNLIMITED');
    given(policyDecider, [goldCreated]).when(updatePolicy(0, -1)).thenThrows('POLICY.INVALID_INPUT', ['requestsPerMinute', 'burst']);
  });

  it('rebuilds the updated state by replay', () => {
    const updated: PolicyEvent = { type: 'policy.updated', data: { name: 'Gold', requestsPerMinute: 5, burst: 1, unlimited: false } };
    given(policyDecider, [goldCreated, updated]).when(updatePolicy(5, 1)).then([]);
  });
});

describe('DeletePolicy', () => {
  const deletePolicy = (usedBy: string[] = []) => ({ type: 'DeletePolicy' as const, data: { usedBy } });
  const goldDeleted: PolicyEvent = { type: 'policy.deleted', data: { name: 'Gold' } };

  it('deletes a tier nothing uses, under the name it was created with', () => {
    given(policyDecider, [goldCreated]).when(deletePolicy()).then([goldDeleted]);
  });

  it('refuses one still in use, naming what uses it', () => {
    const error = given(policyDecider, [goldCreated])
      .when(deletePolicy(['2 APIs', '1 subscription']))
      .thenThrows('POLICY.IN_USE');
    expect(error.kind).toBe('CONFLICT');
    expect(error.message).toContain('2 APIs, 1 subscription');
  });

  it('never deletes the default policy of applications', () => {
    const unlimited: PolicyEvent = { type: 'policy.created', data: { ...DEFAULT_POLICIES[3] } };
    given(policyDecider, [unlimited]).when(deletePolicy()).thenThrows('POLICY.PROTECTED');
  });

  it('knows no deleted or missing policy, and lets its name be created again', () => {
    given(policyDecider, []).when(deletePolicy()).thenThrows('POLICY.NOT_FOUND');
    given(policyDecider, [goldCreated, goldDeleted]).when(deletePolicy()).thenThrows('POLICY.NOT_FOUND');
    given(policyDecider, [goldCreated, goldDeleted])
      .when({ type: 'UpdatePolicy', data: { requestsPerMinute: 5, burst: 0 } })
      .thenThrows('POLICY.NOT_FOUND');
    given(policyDecider, [goldCreated, goldDeleted]).when(createPolicy()).then([goldCreated]);
  });

  it('rebuilds the deleted and re-created state by replay', () => {
    expectReplayToRebuildState(policyDecider, [createPolicy(), deletePolicy(), createPolicy({ requestsPerMinute: 7 })]);
  });
});

describe('CreatePolicy', () => {
  it('creates a throttling policy', () => {
    given(policyDecider, []).when(createPolicy()).then([goldCreated]);
  });

  it('trims the name', () => {
    given(policyDecider, [])
      .when(createPolicy({ name: ' Gold ' }))
      .then([goldCreated]);
  });

  it('refuses to create a policy whose stream already exists', () => {
    given(policyDecider, [goldCreated]).when(createPolicy()).thenThrows('POLICY.ALREADY_EXISTS');
  });

  it.each(['', 'x'.repeat(41), 'Gold!', 'Gold/Plus'])('refuses the name %j', (name) => {
    given(policyDecider, []).when(createPolicy({ name })).thenThrows('POLICY.INVALID_INPUT', ['name']);
  });

  it('accepts letters, digits, spaces, underscores and dashes up to 40 characters', () => {
    const name = 'Gold_Plus - 2'.padEnd(40, 'x');
    given(policyDecider, [])
      .when(createPolicy({ name }))
      .then([{ type: 'policy.created', data: { ...goldCreated.data, name } }]);
  });

  it.each([0, -1, 1.5])('refuses %p requests per minute on a limited policy', (requestsPerMinute) => {
    given(policyDecider, []).when(createPolicy({ requestsPerMinute })).thenThrows('POLICY.INVALID_INPUT', ['requestsPerMinute']);
  });

  it('ignores the rate of an unlimited policy, recording the unlimited rate instead of an invalid one', () => {
    given(policyDecider, [])
      .when(createPolicy({ name: 'Free', requestsPerMinute: 0, burst: 0, unlimited: true }))
      .then([
        { type: 'policy.created', data: { name: 'Free', requestsPerMinute: UNLIMITED_REQUESTS_PER_MINUTE, burst: 0, unlimited: true } },
      ]);
  });

  it.each([-1, 0.5])('refuses a burst of %p', (burst) => {
    given(policyDecider, []).when(createPolicy({ burst })).thenThrows('POLICY.INVALID_INPUT', ['burst']);
  });

  it('accepts a burst of zero', () => {
    given(policyDecider, [])
      .when(createPolicy({ burst: 0 }))
      .then([{ type: 'policy.created', data: { ...goldCreated.data, burst: 0 } }]);
  });
});

describe('Default policies', () => {
  it('are Bronze, Silver, Gold and Unlimited with the documented rates', () => {
    expect(DEFAULT_POLICIES.map((p) => [p.name, p.unlimited ? 'unlimited' : p.requestsPerMinute, p.burst])).toEqual([
      ['Bronze', 1000, 100],
      ['Silver', 5000, 500],
      ['Gold', 20000, 2000],
      ['Unlimited', 'unlimited', 0],
    ]);
  });

  it.each(DEFAULT_POLICIES.map((p) => [p.name, p] as const))('%s passes the CreatePolicy rules unchanged', (_name, policy) => {
    given(policyDecider, [])
      .when({ type: 'CreatePolicy', data: { ...policy } })
      .then([{ type: 'policy.created', data: { ...policy } }]);
  });
});

describe('policyStreamId', () => {
  it('is policy:<lower name>, so names differing only in case share a stream', () => {
    expect(policyStreamId('Gold')).toBe('policy:gold');
    expect(policyStreamId(' GOLD ')).toBe(policyStreamId('gold'));
  });
});

describe('Policy evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    expect(expectReplayToRebuildState(policyDecider, [createPolicy()])).toEqual({ ...goldCreated.data, status: 'CREATED' });
  });
});
