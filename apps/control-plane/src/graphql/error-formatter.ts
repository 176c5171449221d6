import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { DomainError } from '@apim/domain';
import { JsonLogger } from '@apim/events';
import { AuthError, LoginRateLimitedError } from '../auth/auth.errors';
import { StaleRevisionError } from '../command-side/aggregate-repository';
import { RegionError } from '../command-side/write-guard';
import { ConcurrencyError } from '../infrastructure/event-store/event-store';
import { InputError } from './input-validation';
import { QUERY_TOO_COMPLEX } from './query-limits';

/**
 * The one place where errors become GraphQL `extensions.code`
 * (DESIGN.md section 9). Anything unexpected is logged and answered with a
 * generic message, so that no internal detail or secret reaches a client.
 */
export function formatError(logger: JsonLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    if (original instanceof DomainError)
      return { ...base, message: original.message, extensions: { code: original.kind, reason: original.code, fields: original.fields } };
    if (original instanceof InputError)
      return { ...base, message: original.message, extensions: { code: 'BAD_USER_INPUT', fields: original.fields } };
    if (original instanceof ConcurrencyError || original instanceof StaleRevisionError)
      return {
        ...base,
        message: 'Someone else changed this at the same time; reload it and retry',
        extensions: { code: 'CONFLICT', reason: 'CONCURRENT_UPDATE' },
      };
    if (original instanceof RegionError)
      return {
        ...base,
        message: original.message,
        extensions: {
          code: original.code,
          ...(original.code === 'WRONG_REGION' ? { home: original.sendTo } : { primary: original.sendTo }),
        },
      };
    if (original instanceof AuthError) return { ...base, message: original.message, extensions: { code: original.code } };
    if (original instanceof LoginRateLimitedError)
      return { ...base, message: original.message, extensions: { code: original.code, retryAfterSeconds: original.retryAfterSeconds } };
    // Apollo re-labels validation errors GRAPHQL_VALIDATION_FAILED; our query limits keep their own code.
    const cause = (error as GraphQLError).originalError;
    if (cause instanceof GraphQLError && cause.extensions.code === QUERY_TOO_COMPLEX)
      return { ...base, extensions: { ...cause.extensions, code: QUERY_TOO_COMPLEX } };
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    logger.error('unexpected error in a GraphQL request', { error: (original as Error)?.message, path: formatted.path });
    return { ...base, message: 'Internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
