import { ApplicationCreatedData, applicationDecider, DomainError } from '@apim/domain';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { AuthUser, hasRole } from '../command-side/command-context';
import { Queryable } from '../infrastructure/event-store/event-store';

/**
 * Loads an application from its stream (not a read model: it may have been
 * created a moment ago) and checks that `user` may act for it: its owner, or an ADMIN.
 * A deleted application is not found.
 */
export async function ownedApplication(
  repository: AggregateRepository,
  applicationId: string,
  user: AuthUser | null,
  tx?: Queryable,
): Promise<ApplicationCreatedData> {
  const { state } = await repository.load(applicationDecider, applicationId, tx);
  // A deleted application is not found: nothing may be done with it (subscribe, keys, clients, tokens).
  if (state.status !== 'CREATED') throw DomainError.notFound('APPLICATION.NOT_FOUND', `No application ${applicationId}`);
  if (!user || (state.ownerId !== user.userId && !hasRole(user, 'ADMIN')))
    throw DomainError.forbidden('APPLICATION.NOT_OWNER', 'Only the owner of the application may do this');
  return state;
}
