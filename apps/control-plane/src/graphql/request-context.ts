import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';
import { CommandContext } from '../command-side/command-context';

/** What every resolver can see of its request. */
export interface GraphQLRequestContext extends CommandContext {
  req: Request;
  /** Why the bearer token was refused, when one was sent and refused. */
  authProblem: string | null;
}

/** The caller and correlation id of this request, for commands. */
export const RequestContext = createParamDecorator((_data: unknown, execution: ExecutionContext): CommandContext =>
  GqlExecutionContext.create(execution).getContext<GraphQLRequestContext>(),
);
