import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Role, UserCommand, userDecider, userStreamId } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { AuthUser, CommandContext } from '../command-side/command-context';
import { RequestContext } from '../graphql/request-context';
import { AuthService } from './auth.service';
import { AuthPayload, RoleName, User } from './auth.types';
import { Authorized } from './roles.guard';

export class SignUpCommand extends Command<AuthPayload> {
  constructor(
    readonly username: string,
    readonly password: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(SignUpCommand)
export class SignUpHandler implements ICommandHandler<SignUpCommand> {
  constructor(private readonly auth: AuthService) {}

  async execute({ username, password, context }: SignUpCommand): Promise<AuthPayload> {
    await this.auth.register(username, password, ['DEVELOPER'], context);
    return this.auth.login(username, password);
  }
}

/** Grants a user a role, or revokes one. */
export class ChangeRoleCommand extends Command<User> {
  constructor(
    readonly username: string,
    readonly role: Role,
    readonly change: 'grant' | 'revoke',
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(ChangeRoleCommand)
export class ChangeRoleHandler implements ICommandHandler<ChangeRoleCommand> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ username, role, change, context }: ChangeRoleCommand): Promise<User> {
    const result = await this.repository.execute({
      decider: userDecider,
      streamId: userStreamId(username),
      streamType: 'user',
      context,
      command: ({ state }): UserCommand =>
        change === 'grant'
          ? { type: 'ChangeRoles', data: { roles: state.status === 'EMPTY' ? [role] : [...new Set([...state.roles, role])] } }
          : { type: 'RevokeRole', data: { role, revokedBy: (context.user as AuthUser).username } },
    });
    if (result.state.status === 'EMPTY') throw new Error(`unreachable: a user stream after a role ${change}`);
    return { username: result.state.username, roles: result.state.roles as RoleName[] };
  }
}

@Resolver()
export class AuthResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly commands: CommandBus,
  ) {}

  @Mutation(() => AuthPayload, { description: 'Signs in; send the token as Authorization: Bearer <accessToken>' })
  login(@Args('username') username: string, @Args('password') password: string): Promise<AuthPayload> {
    return this.auth.login(username, password);
  }

  @Mutation(() => AuthPayload, { description: 'Creates a DEVELOPER account and signs it in' })
  signUp(
    @Args('username') username: string,
    @Args('password') password: string,
    @RequestContext() context: CommandContext,
  ): Promise<AuthPayload> {
    return this.commands.execute(new SignUpCommand(username, password, context));
  }

  @Authorized('ADMIN')
  @Mutation(() => User, { description: 'Adds a role to a user (ADMIN only)' })
  grantRole(
    @Args('username') username: string,
    @Args('role', { type: () => RoleName }) role: RoleName,
    @RequestContext() context: CommandContext,
  ): Promise<User> {
    return this.commands.execute(new ChangeRoleCommand(username, role, 'grant', context));
  }

  @Authorized('ADMIN')
  @Mutation(() => User, {
    description:
      'Takes a role away from a user (ADMIN only), at once: roles are read on every request. A user keeps at least one role, and an ADMIN cannot revoke their own ADMIN role',
  })
  revokeRole(
    @Args('username') username: string,
    @Args('role', { type: () => RoleName }) role: RoleName,
    @RequestContext() context: CommandContext,
  ): Promise<User> {
    return this.commands.execute(new ChangeRoleCommand(username, role, 'revoke', context));
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean, {
    description:
      "Ends a user's access at once: sign-in refused, every access token of theirs refused (ADMIN only; not one's own account). Their applications and keys keep working until revoked",
  })
  async deactivateUser(@Args('username') username: string, @RequestContext() context: CommandContext): Promise<boolean> {
    await this.auth.setActive(username, false, context);
    return true;
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean, {
    description: 'Lets a deactivated user sign in again; tokens from before the deactivation stay refused (ADMIN only)',
  })
  async reactivateUser(@Args('username') username: string, @RequestContext() context: CommandContext): Promise<boolean> {
    await this.auth.setActive(username, true, context);
    return true;
  }

  @Authorized()
  @Mutation(() => AuthPayload, {
    description: 'Changes your password (the current one must be given) and signs you in again: every token issued before is refused',
  })
  changePassword(
    @Args('currentPassword') currentPassword: string,
    @Args('newPassword') newPassword: string,
    @RequestContext() context: CommandContext,
  ): Promise<AuthPayload> {
    return this.auth.changePassword(context.user as AuthUser, currentPassword, newPassword, context);
  }

  @Authorized('ADMIN')
  @Mutation(() => Boolean, { description: "Sets a user's password, for one who lost theirs, and ends the user's sessions (ADMIN only)" })
  async resetPassword(
    @Args('username') username: string,
    @Args('newPassword') newPassword: string,
    @RequestContext() context: CommandContext,
  ): Promise<boolean> {
    await this.auth.resetPassword(username, newPassword, context);
    return true;
  }

  @Authorized()
  @Query(() => User, { description: 'The signed-in user' })
  me(@RequestContext() context: CommandContext): User {
    const user = context.user as AuthUser;
    return { username: user.username, roles: user.roles as RoleName[] };
  }
}
