import { Decider, distinct, DomainError, InputCheck, Message, unreachable } from '../shared';

export const ROLES = ['ADMIN', 'PUBLISHER', 'DEVELOPER'] as const;
export type Role = (typeof ROLES)[number];

/** `user.registered` v1 payload. */
export interface UserRegisteredData {
  username: string;
  passwordHash: string;
  roles: Role[];
}

/** `user.roles-changed` v1 payload: the complete new set of roles. */
export interface UserRolesChangedData {
  roles: Role[];
}

/** `user.password-changed` v1 payload. */
export interface UserPasswordChangedData {
  passwordHash: string;
}

/** Registers a user. `passwordHash` is computed by the handler (`scrypt$N$r$p$salt$hash`); the password never reaches the domain. */
export interface RegisterUserData {
  username: string;
  passwordHash: string;
  roles: readonly Role[];
}

/** Replaces a user's roles with `roles`. */
export interface ChangeRolesData {
  roles: readonly Role[];
}

/** Takes one role away from a user; `revokedBy` is the username of the ADMIN who asks. */
export interface RevokeRoleData {
  role: Role;
  revokedBy: string;
}

/** Replaces a user's password. The handler has checked the current one and hashed the new one. */
export interface ChangePasswordData {
  passwordHash: string;
}

/** Ends a user's access; `deactivatedBy` is the username of the ADMIN who asks. */
export interface DeactivateUserData {
  deactivatedBy: string;
}

export type UserCommand =
  | Message<'RegisterUser', RegisterUserData>
  | Message<'ChangeRoles', ChangeRolesData>
  | Message<'RevokeRole', RevokeRoleData>
  | Message<'ChangePassword', ChangePasswordData>
  | Message<'DeactivateUser', DeactivateUserData>
  | Message<'ReactivateUser', Record<string, never>>;
export type UserEvent =
  | Message<'user.registered', UserRegisteredData>
  | Message<'user.roles-changed', UserRolesChangedData>
  | Message<'user.password-changed', UserPasswordChangedData>
  | Message<'user.deactivated', Record<string, never>>
  | Message<'user.reactivated', Record<string, never>>;
/** `active` is false between `user.deactivated` and `user.reactivated`. */
export type UserState = { status: 'EMPTY' } | (UserRegisteredData & { status: 'REGISTERED'; active: boolean });

const USERNAME = /^[a-z0-9._-]{3,32}$/;
// Checking the shape keeps a plain password, passed by mistake, out of the event log, where it would stay forever.
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[^$\s]+\$[^$\s]+$/;

/** Usernames are case-insensitive: this is the form stored and compared. */
export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Stream id of a user: `user:<lower username>`, which makes a taken username a stream clash. */
export function userStreamId(username: string): string {
  return `user:${normaliseUsername(username)}`;
}

export function initialState(): UserState {
  return { status: 'EMPTY' };
}

export function decide(command: UserCommand, state: UserState): UserEvent[] {
  switch (command.type) {
    case 'RegisterUser':
      return register(command.data, state);
    case 'ChangeRoles':
      return changeRoles(command.data, state);
    case 'RevokeRole':
      return revokeRole(command.data, state);
    case 'ChangePassword':
      return changePassword(command.data, state);
    case 'DeactivateUser':
      return deactivate(command.data, state);
    case 'ReactivateUser':
      return reactivate(state);
    default:
      return unreachable(command);
  }
}

function register(data: RegisterUserData, state: UserState): UserEvent[] {
  if (state.status !== 'EMPTY') throw DomainError.conflict('USER.ALREADY_EXISTS', `User ${state.username} already exists`, ['username']);
  const username = typeof data.username === 'string' ? normaliseUsername(data.username) : '';
  new InputCheck()
    .require(USERNAME.test(username), 'username', 'must be 3..32 characters [a-z0-9._-]')
    .require(typeof data.passwordHash === 'string' && SCRYPT_HASH.test(data.passwordHash), 'passwordHash', 'must be an scrypt hash')
    .require(areValidRoles(data.roles), 'roles', `must name at least one of ${ROLES.join(', ')}`)
    .throwIfAny('USER.INVALID_INPUT');
  return [{ type: 'user.registered', data: { username, passwordHash: data.passwordHash, roles: distinct(data.roles) } }];
}

function changeRoles(data: ChangeRolesData, state: UserState): UserEvent[] {
  assertRegistered(state);
  new InputCheck()
    .require(areValidRoles(data.roles), 'roles', `must name at least one of ${ROLES.join(', ')}`)
    .throwIfAny('USER.INVALID_INPUT');
  const roles = distinct(data.roles);
  // Same set as now: nothing happened, so nothing is recorded (a retried request stays harmless).
  if (roles.length === state.roles.length && roles.every((role) => state.roles.includes(role))) return [];
  return [{ type: 'user.roles-changed', data: { roles } }];
}

/**
 * Takes a role away. A user keeps at least one role, and an ADMIN cannot take
 * their own ADMIN role away: the last ADMIN of a deployment could otherwise
 * lock everyone out of it (no one could grant the role again). A role the user
 * does not hold is no change, and records nothing.
 */
function revokeRole(data: RevokeRoleData, state: UserState): UserEvent[] {
  assertRegistered(state);
  new InputCheck().require(isRole(data.role), 'role', `must be one of ${ROLES.join(', ')}`).throwIfAny('USER.INVALID_INPUT');
  if (!state.roles.includes(data.role)) return [];
  if (data.role === 'ADMIN' && normaliseUsername(data.revokedBy) === state.username)
    throw DomainError.conflict('USER.OWN_ADMIN_ROLE', 'An ADMIN cannot revoke their own ADMIN role; another ADMIN can', ['role']);
  if (state.roles.length === 1)
    throw DomainError.conflict('USER.LAST_ROLE', `${state.username} has no other role: grant another one before revoking ${data.role}`, [
      'role',
    ]);
  return [{ type: 'user.roles-changed', data: { roles: state.roles.filter((role) => role !== data.role) } }];
}

function changePassword(data: ChangePasswordData, state: UserState): UserEvent[] {
  assertRegistered(state);
  new InputCheck()
    .require(typeof data.passwordHash === 'string' && SCRYPT_HASH.test(data.passwordHash), 'passwordHash', 'must be an scrypt hash')
    .throwIfAny('USER.INVALID_INPUT');
  return [{ type: 'user.password-changed', data: { passwordHash: data.passwordHash } }];
}

/** An ADMIN cannot deactivate their own account (as with their own ADMIN role). Deactivating twice records nothing. */
function deactivate(data: DeactivateUserData, state: UserState): UserEvent[] {
  assertRegistered(state);
  if (normaliseUsername(data.deactivatedBy) === state.username)
    throw DomainError.conflict('USER.OWN_ACCOUNT', 'An ADMIN cannot deactivate their own account; another ADMIN can', ['username']);
  return state.active ? [{ type: 'user.deactivated', data: {} }] : [];
}

/** Reactivating an active user records nothing. */
function reactivate(state: UserState): UserEvent[] {
  assertRegistered(state);
  return state.active ? [] : [{ type: 'user.reactivated', data: {} }];
}

/** Every command but RegisterUser acts on a registered user. */
function assertRegistered(state: UserState): asserts state is Extract<UserState, { status: 'REGISTERED' }> {
  if (state.status === 'EMPTY') throw DomainError.notFound('USER.NOT_FOUND', 'No such user');
}

function isRole(role: unknown): role is Role {
  return (ROLES as readonly unknown[]).includes(role);
}

function areValidRoles(roles: readonly Role[]): boolean {
  return Array.isArray(roles) && roles.length >= 1 && roles.every(isRole);
}

export function evolve(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'user.registered':
      return { ...event.data, status: 'REGISTERED', active: true };
    case 'user.deactivated':
      return state.status === 'EMPTY' ? state : { ...state, active: false };
    case 'user.reactivated':
      return state.status === 'EMPTY' ? state : { ...state, active: true };
    case 'user.roles-changed':
      return state.status === 'EMPTY' ? state : { ...state, roles: event.data.roles };
    case 'user.password-changed':
      return state.status === 'EMPTY' ? state : { ...state, passwordHash: event.data.passwordHash };
    default:
      return unreachable(event);
  }
}

/** The User aggregate (streamType `user`, stream id `userStreamId(username)`). */
export const userDecider: Decider<UserCommand, UserEvent, UserState> = { decide, evolve, initialState };
