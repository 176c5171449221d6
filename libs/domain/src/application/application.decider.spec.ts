import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { applicationDecider, ApplicationEvent, CreateApplicationData } from './application.decider';

const createApplication = (overrides: Partial<CreateApplicationData> = {}) => ({
  type: 'CreateApplication' as const,
  data: { ownerId: 'user-1', name: 'Shop', policy: 'Gold', availablePolicies: ['Bronze', 'Gold'], ...overrides },
});
const created: ApplicationEvent = { type: 'application.created', data: { ownerId: 'user-1', name: 'Shop', policy: 'Gold' } };

describe('CreateApplication', () => {
  it('creates an application owned by the acting user on an application-level policy', () => {
    given(applicationDecider, []).when(createApplication()).then([created]);
  });

  it('trims the name', () => {
    given(applicationDecider, [])
      .when(createApplication({ name: '  Shop \n' }))
      .then([created]);
  });

  it('accepts a name of 100 characters', () => {
    const name = 'x'.repeat(100);
    given(applicationDecider, [])
      .when(createApplication({ name }))
      .then([{ type: 'application.created', data: { ...created.data, name } }]);
  });

  it('refuses to create an application whose stream already exists', () => {
    given(applicationDecider, [created]).when(createApplication()).thenThrows('APPLICATION.ALREADY_EXISTS');
  });

  it.each(['', '   ', 'x'.repeat(101)])('refuses the name %j', (name) => {
    given(applicationDecider, []).when(createApplication({ name })).thenThrows('APPLICATION.INVALID_INPUT', ['name']);
  });

  it('refuses a policy that does not exist', () => {
    given(applicationDecider, [])
      .when(createApplication({ policy: 'Platinum' }))
      .thenThrows('APPLICATION.INVALID_INPUT', ['policy']);
  });

  it('refuses an application without an owner', () => {
    given(applicationDecider, [])
      .when(createApplication({ ownerId: '' }))
      .thenThrows('APPLICATION.INVALID_INPUT', ['ownerId']);
  });
});

describe('UpdateApplication', () => {
  const update = (data: { name?: string; policy?: string }) => ({
    type: 'UpdateApplication' as const,
    data: { ...data, availablePolicies: ['Bronze', 'Gold'] },
  });

  it('changes the tier, or the name, and records both as they are after the change', () => {
    given(applicationDecider, [created])
      .when(update({ policy: 'Bronze' }))
      .then([{ type: 'application.updated', data: { name: 'Shop', policy: 'Bronze' } }]);
    given(applicationDecider, [created])
      .when(update({ name: ' Store ' }))
      .then([{ type: 'application.updated', data: { name: 'Store', policy: 'Gold' } }]);
  });

  it('records nothing when nothing changes', () => {
    given(applicationDecider, [created])
      .when(update({ name: 'Shop', policy: 'Gold' }))
      .then([]);
  });

  it('refuses an unknown policy, a blank name, an empty change and an application that does not exist', () => {
    given(applicationDecider, [created])
      .when(update({ policy: 'Platinum' }))
      .thenThrows('APPLICATION.INVALID_INPUT', ['policy']);
    given(applicationDecider, [created])
      .when(update({ name: '  ' }))
      .thenThrows('APPLICATION.INVALID_INPUT', ['name']);
    given(applicationDecider, [created]).when(update({})).thenThrows('APPLICATION.INVALID_INPUT', ['name']);
    given(applicationDecider, [])
      .when(update({ policy: 'Gold' }))
      .thenThrows('APPLICATION.NOT_FOUND');
  });
});

describe('DeleteApplication', () => {
  const deleteApplication = { type: 'DeleteApplication' as const, data: {} };
  const deleted: ApplicationEvent = { type: 'application.deleted', data: {} };

  it('deletes an application', () => {
    given(applicationDecider, [created]).when(deleteApplication).then([deleted]);
  });

  it('finds no application that never was, or that was deleted: not twice, not updated, not created again under its id', () => {
    given(applicationDecider, []).when(deleteApplication).thenThrows('APPLICATION.NOT_FOUND');
    given(applicationDecider, [created, deleted]).when(deleteApplication).thenThrows('APPLICATION.NOT_FOUND');
    given(applicationDecider, [created, deleted])
      .when({ type: 'UpdateApplication', data: { name: 'Again', availablePolicies: ['Gold'] } })
      .thenThrows('APPLICATION.NOT_FOUND');
    given(applicationDecider, [created, deleted]).when(createApplication()).thenThrows('APPLICATION.ALREADY_EXISTS');
  });
});

describe('Application evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    expect(expectReplayToRebuildState(applicationDecider, [createApplication()])).toEqual({ ...created.data, status: 'CREATED' });
    expect(expectReplayToRebuildState(applicationDecider, [createApplication(), { type: 'DeleteApplication', data: {} }])).toEqual({
      ...created.data,
      status: 'DELETED',
    });
  });
});
