import { DomainError } from '../shared';
import { ApiLifecycle } from './api-definition';

/** An API as a read model lists it, enough to check context uniqueness. */
export interface LiveApi {
  id: string;
  context: string;
  version: string;
  state: ApiLifecycle;
}

/**
 * Gateways route on context + version, so two APIs that are not RETIRED may
 * not share both. The check spans aggregates, hence a policy fed from a read
 * model rather than a rule inside one stream.
 *
 * @param selfId the API being checked, which never clashes with itself
 * @throws DomainError `API.CONTEXT_TAKEN` (CONFLICT, fields context and version)
 */
export function assertContextAvailable(context: string, version: string, liveApis: readonly LiveApi[], selfId?: string): void {
  const holder = liveApis.find((api) => api.id !== selfId && api.state !== 'RETIRED' && api.context === context && api.version === version);
  if (holder) {
    throw DomainError.conflict('API.CONTEXT_TAKEN', `Context ${context} version ${version} is already used by API ${holder.id}`, [
      'context',
      'version',
    ]);
  }
}
