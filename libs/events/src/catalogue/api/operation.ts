import 'reflect-metadata';
import { IsIn } from 'class-validator';
import { IsOperationPath } from '../field-rules';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;
export const OPERATION_AUTHS = ['none', 'apikey', 'oauth2'] as const;
export const API_VISIBILITIES = ['public', 'private'] as const;

/** One route of an API, as carried by `api.created` and `api.updated`. */
export class Operation {
  @IsIn(HTTP_METHODS)
  method!: (typeof HTTP_METHODS)[number];

  @IsOperationPath()
  path!: string;

  @IsIn(OPERATION_AUTHS)
  auth!: (typeof OPERATION_AUTHS)[number];
}
