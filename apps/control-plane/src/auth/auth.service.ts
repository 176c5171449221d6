import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { normaliseUsername, Role, userDecider, UserState, userStreamId } from '@apim/domain';
import { AggregateRepository, Loaded } from '../command-side/aggregate-repository';
import { AuthUser, CommandContext } from '../command-side/command-context';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { InputError } from '../graphql/input-validation';
import { AccessTokens } from './access-tokens';
import { AuthError } from './auth.errors';
import { LoginThrottle } from './login-throttle';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password-hasher';

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/** Users: registration (as events, so that logins survive a failover) and sign-in. */
@Injectable()
export class AuthService {
  private readonly throttle: LoginThrottle;

  constructor(
    config: ControlPlaneConfig,
    private readonly repository: AggregateRepository,
    private readonly tokens: AccessTokens,
    private readonly db: DataSource,
  ) {
    this.throttle = new LoginThrottle(config.LOGIN_MAX_ATTEMPTS, config.LOGIN_WINDOW_SECONDS * 1000);
  }

  async register(username: string, password: string, roles: Role[], context: CommandContext): Promise<void> {
    checkPassword(password);
    await this.repository.execute({
      decider: userDecider,
      streamId: userStreamId(username),
      streamType: 'user',
      context,
      command: { type: 'RegisterUser', data: { username: normaliseUsername(username), passwordHash: await hashPassword(password), roles } },
    });
  }

  async login(username: string, password: string): Promise<{ accessToken: string; expiresIn: number }> {
    const name = normaliseUsername(username);
    const user = await this.verified(name, password);
    if (!user) throw new AuthError('UNAUTHENTICATED', 'Wrong username or password');
    // Said only to whoever knows the password.
    if (!user.state.active) throw new AuthError('UNAUTHENTICATED', 'This account is deactivated; ask an ADMIN to reactivate it');
    return this.tokens.issue({ userId: userStreamId(name), username: name, roles: user.state.roles });
  }

  /**
   * Replaces the signed-in user's password and returns a new token: every
   * token issued before is refused from now on (AccessTokens), so a leaked
   * password's sessions end with it. The current password must be given; a
   * wrong one counts against the login throttle, so that a stolen session
   * cannot guess it.
   */
  async changePassword(
    user: AuthUser,
    currentPassword: string,
    newPassword: string,
    context: CommandContext,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    checkPassword(newPassword, 'newPassword');
    const name = normaliseUsername(user.username);
    const current = await this.verified(name, currentPassword);
    if (!current) throw new InputError('currentPassword: is not the current password', ['currentPassword']);
    await this.setPassword(name, newPassword, context, current.version);
    return this.tokens.issue({ userId: userStreamId(name), username: name, roles: current.state.roles });
  }

  /** An ADMIN sets a user's password (a user who lost theirs), which ends the user's sessions; the roles are checked by the resolver. */
  async resetPassword(username: string, newPassword: string, context: CommandContext): Promise<void> {
    checkPassword(newPassword, 'newPassword');
    await this.setPassword(normaliseUsername(username), newPassword, context);
  }

  /**
   * Ends a user's access (sign-in refused, every token refused at once), or
   * gives it back; an ADMIN's own account cannot be deactivated. The roles are
   * checked by the resolver.
   */
  async setActive(username: string, active: boolean, context: CommandContext): Promise<void> {
    await this.repository.execute({
      decider: userDecider,
      streamId: userStreamId(username),
      streamType: 'user',
      context,
      command: active
        ? { type: 'ReactivateUser', data: {} }
        : { type: 'DeactivateUser', data: { deactivatedBy: (context.user as AuthUser).username } },
    });
  }

  /**
   * The user's stream when `password` is theirs, else null; either way the
   * attempt counts against the login throttle (which refuses too many).
   */
  private async verified(name: string, password: string): Promise<Loaded<Extract<UserState, { status: 'REGISTERED' }>> | null> {
    this.throttle.assertAllowed(name);
    const loaded = await this.repository.load(userDecider, userStreamId(name), this.db);
    const { state } = loaded;
    // verifyPassword runs for unknown users too, so that timing does not tell which usernames exist.
    const valid = await verifyPassword(password, state.status === 'EMPTY' ? UNKNOWN_USER_HASH : state.passwordHash);
    if (state.status === 'EMPTY' || !valid) {
      this.throttle.recordFailure(name);
      return null;
    }
    this.throttle.recordSuccess(name);
    return { ...loaded, state };
  }

  private async setPassword(username: string, password: string, context: CommandContext, expectedVersion?: number): Promise<void> {
    // Hashed before the transaction (scrypt takes tens of ms); expectedVersion refuses it if the password changed meanwhile.
    const passwordHash = await hashPassword(password);
    await this.repository.execute({
      decider: userDecider,
      streamId: userStreamId(username),
      streamType: 'user',
      context,
      expectedVersion,
      command: { type: 'ChangePassword', data: { passwordHash } },
    });
  }
}

// A well-formed hash of a random password nobody knows.
const UNKNOWN_USER_HASH = DUMMY_HASH;

function checkPassword(password: string, field = 'password'): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH)
    throw new InputError(`${field}: must be ${PASSWORD_MIN_LENGTH}..${PASSWORD_MAX_LENGTH} characters`, [field]);
}
