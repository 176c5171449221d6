import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { RegisterUserData, Role, userDecider, UserEvent, userStreamId } from './user.decider';

const HASH = 'scrypt$16384$8$1$c2FsdA$aGFzaA';
const register = (overrides: Partial<RegisterUserData> = {}) => ({
  type: 'RegisterUser' as const,
  data: { username: 'alice', passwordHash: HASH, roles: ['DEVELOPER'] as Role[], ...overrides },
});
const changeRoles = (roles: Role[]) => ({ type: 'ChangeRoles' as const, data: { roles } });
const registered: UserEvent = { type: 'user.registered', data: { username: 'alice', passwordHash: HASH, roles: ['DEVELOPER'] } };

describe('RegisterUser', () => {
  it('registers a user with a password hash and roles', () => {
    given(userDecider, []).when(register()).then([registered]);
  });

  it('lowercases the username', () => {
    given(userDecider, [])
      .when(register({ username: 'Alice' }))
      .then([registered]);
  });

  it('keeps each role once', () => {
    given(userDecider, [])
      .when(register({ roles: ['ADMIN', 'DEVELOPER', 'ADMIN'] }))
      .then([{ type: 'user.registered', data: { ...registered.data, roles: ['ADMIN', 'DEVELOPER'] } }]);
  });

  it('refuses a username that is already registered', () => {
    const error = given(userDecider, [registered]).when(register()).thenThrows('USER.ALREADY_EXISTS', ['username']);
    expect(error.kind).toBe('CONFLICT');
  });

  it.each(['al', 'x'.repeat(33), 'alice smith', 'alice@example', ''])('refuses the username %j', (username) => {
    given(userDecider, []).when(register({ username })).thenThrows('USER.INVALID_INPUT', ['username']);
  });

  it('accepts dots, dashes and underscores in a username', () => {
    given(userDecider, [])
      .when(register({ username: 'a.b-c_d' }))
      .then([{ type: 'user.registered', data: { ...registered.data, username: 'a.b-c_d' } }]);
  });

  it('refuses a password that is not an scrypt hash, so a plain password never lands in the log', () => {
    given(userDecider, [])
      .when(register({ passwordHash: 'hunter2' }))
      .thenThrows('USER.INVALID_INPUT', ['passwordHash']);
  });

  it('refuses a user without roles', () => {
    given(userDecider, [])
      .when(register({ roles: [] }))
      .thenThrows('USER.INVALID_INPUT', ['roles']);
  });

  it('refuses an unknown role', () => {
    given(userDecider, [])
      .when(register({ roles: ['ROOT' as Role] }))
      .thenThrows('USER.INVALID_INPUT', ['roles']);
  });
});

describe('ChangeRoles', () => {
  it('replaces the roles of a registered user', () => {
    given(userDecider, [registered])
      .when(changeRoles(['PUBLISHER', 'DEVELOPER']))
      .then([{ type: 'user.roles-changed', data: { roles: ['PUBLISHER', 'DEVELOPER'] } }]);
  });

  it('records nothing when the roles are those the user already has', () => {
    given(userDecider, [registered])
      .when(changeRoles(['DEVELOPER']))
      .then([]);
  });

  it('refuses to change the roles of a user who does not exist', () => {
    given(userDecider, [])
      .when(changeRoles(['ADMIN']))
      .thenThrows('USER.NOT_FOUND');
  });

  it('refuses to leave a user without roles', () => {
    given(userDecider, [registered]).when(changeRoles([])).thenThrows('USER.INVALID_INPUT', ['roles']);
  });

  it('refuses an unknown role', () => {
    given(userDecider, [registered])
      .when(changeRoles(['OWNER' as Role]))
      .thenThrows('USER.INVALID_INPUT', ['roles']);
  });
});

describe('RevokeRole', () => {
  const revoke = (role: Role, revokedBy = 'root') => ({ type: 'RevokeRole' as const, data: { role, revokedBy } });
  const publisher: UserEvent = { type: 'user.roles-changed', data: { roles: ['DEVELOPER', 'PUBLISHER', 'ADMIN'] } };

  it('takes one role away and keeps the others', () => {
    given(userDecider, [registered, publisher])
      .when(revoke('PUBLISHER'))
      .then([{ type: 'user.roles-changed', data: { roles: ['DEVELOPER', 'ADMIN'] } }]);
  });

  it('records nothing for a role the user does not hold', () => {
    given(userDecider, [registered]).when(revoke('ADMIN')).then([]);
  });

  it("refuses to take a user's last role", () => {
    given(userDecider, [registered]).when(revoke('DEVELOPER')).thenThrows('USER.LAST_ROLE', ['role']);
  });

  it('refuses an ADMIN their own ADMIN role, whatever the case of the name, and lets another ADMIN take it', () => {
    given(userDecider, [registered, publisher]).when(revoke('ADMIN', 'Alice')).thenThrows('USER.OWN_ADMIN_ROLE', ['role']);
    // Even when it is their only role: the reason that matters is that it is their own.
    const onlyAdmin: UserEvent = { type: 'user.roles-changed', data: { roles: ['ADMIN'] } };
    given(userDecider, [registered, onlyAdmin]).when(revoke('ADMIN', 'alice')).thenThrows('USER.OWN_ADMIN_ROLE', ['role']);
    given(userDecider, [registered, publisher])
      .when(revoke('ADMIN', 'bob'))
      .then([{ type: 'user.roles-changed', data: { roles: ['DEVELOPER', 'PUBLISHER'] } }]);
  });

  it('refuses an unknown role and a user who does not exist', () => {
    given(userDecider, [registered])
      .when(revoke('OWNER' as Role))
      .thenThrows('USER.INVALID_INPUT', ['role']);
    given(userDecider, []).when(revoke('ADMIN')).thenThrows('USER.NOT_FOUND');
  });
});

describe('DeactivateUser and ReactivateUser', () => {
  const deactivate = (deactivatedBy = 'root') => ({ type: 'DeactivateUser' as const, data: { deactivatedBy } });
  const reactivate = { type: 'ReactivateUser' as const, data: {} };
  const deactivated: UserEvent = { type: 'user.deactivated', data: {} };

  it('deactivates an active user once, and reactivates a deactivated one once', () => {
    given(userDecider, [registered]).when(deactivate()).then([deactivated]);
    given(userDecider, [registered, deactivated]).when(deactivate()).then([]);
    given(userDecider, [registered, deactivated])
      .when(reactivate)
      .then([{ type: 'user.reactivated', data: {} }]);
    given(userDecider, [registered]).when(reactivate).then([]);
  });

  it("refuses an ADMIN's own account and a user who does not exist", () => {
    given(userDecider, [registered]).when(deactivate('Alice')).thenThrows('USER.OWN_ACCOUNT', ['username']);
    given(userDecider, []).when(deactivate()).thenThrows('USER.NOT_FOUND');
    given(userDecider, []).when(reactivate).thenThrows('USER.NOT_FOUND');
  });
});

describe('ChangePassword', () => {
  const NEW_HASH = 'scrypt$16384$8$1$bmV3$bmV3aGFzaA';
  const changePassword = (passwordHash: string) => ({ type: 'ChangePassword' as const, data: { passwordHash } });

  it('records the new password hash', () => {
    given(userDecider, [registered])
      .when(changePassword(NEW_HASH))
      .then([{ type: 'user.password-changed', data: { passwordHash: NEW_HASH } }]);
  });

  it('refuses a password that is not an scrypt hash, so a plain password never lands in the log', () => {
    given(userDecider, [registered]).when(changePassword('correct horse battery')).thenThrows('USER.INVALID_INPUT', ['passwordHash']);
  });

  it('refuses to change the password of a user who does not exist', () => {
    given(userDecider, []).when(changePassword(NEW_HASH)).thenThrows('USER.NOT_FOUND');
  });
});

describe('userStreamId', () => {
  it('is user:<lower username>, so usernames differing only in case share a stream', () => {
    expect(userStreamId('Alice')).toBe('user:alice');
  });
});

describe('User evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    const state = expectReplayToRebuildState(userDecider, [
      register(),
      changeRoles(['ADMIN']),
      changeRoles(['ADMIN']),
      changeRoles(['PUBLISHER']),
      { type: 'ChangePassword', data: { passwordHash: 'scrypt$1$1$1$bmV3$bmV3' } },
    ]);
    expect(state).toMatchObject({ status: 'REGISTERED', username: 'alice', roles: ['PUBLISHER'], passwordHash: 'scrypt$1$1$1$bmV3$bmV3' });
  });
});
