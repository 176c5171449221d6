import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { AccessTokens } from '../auth/access-tokens';
import { GraphQLRequestContext } from './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds each request's context: the caller from its bearer token, and a correlation id (x-request-id if sane). */
export async function graphQLRequestContext(req: Request, tokens: AccessTokens): Promise<GraphQLRequestContext> {
  const header = req.headers['x-request-id'];
  const correlationId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
  const authorization = req.headers.authorization;
  if (!authorization) return { req, user: null, authProblem: null, correlationId };
  try {
    return { req, user: await tokens.authenticate(authorization), authProblem: null, correlationId };
  } catch (error) {
    return { req, user: null, authProblem: (error as Error).message, correlationId };
  }
}
