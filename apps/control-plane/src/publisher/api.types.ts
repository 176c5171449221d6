import { applyDecorators } from '@nestjs/common';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { HTTP_METHODS, Operation as DomainOperation, OPERATION_AUTHS, POLICY_NAME, VISIBILITIES, Visibility } from '@apim/domain';

export enum LifecycleAction {
  PUBLISH = 'PUBLISH',
  DEPRECATE = 'DEPRECATE',
  RETIRE = 'RETIRE',
  BLOCK = 'BLOCK',
  UNBLOCK = 'UNBLOCK',
}
registerEnumType(LifecycleAction, { name: 'LifecycleAction' });

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

@ObjectType()
export class Operation {
  @Field() method!: string;
  @Field() path!: string;
  @Field({ description: 'none, apikey or oauth2' }) auth!: string;
}

@InputType()
export class OperationInput {
  @Field()
  @IsIn(HTTP_METHODS, { message: `method must be one of ${HTTP_METHODS.join(', ')}` })
  method!: string;

  @Field()
  @Matches(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/{}-]*$/, { message: 'path must start with "/" and use URL path characters' })
  @MaxLength(200)
  path!: string;

  @Field({ defaultValue: 'apikey' })
  @IsIn(OPERATION_AUTHS, { message: `auth must be one of ${OPERATION_AUTHS.join(', ')}` })
  auth!: string;
}

// Rules shared by CreateApiInput and UpdateApiInput; each field's @Field stays with it (nullability differs).
const apiNameRules = () => applyDecorators(IsString(), MinLength(1), MaxLength(100));
const upstreamUrlsRules = () =>
  applyDecorators(
    ArrayMinSize(1, { message: 'upstreamUrls must list at least one URL' }),
    ArrayMaxSize(16),
    IsUrl(URL_OPTIONS, { each: true, message: 'upstreamUrls must be http(s) URLs' }),
  );
const upstreamTimeoutRules = () => applyDecorators(IsOptional(), IsInt(), Min(100), Max(300_000));
const tiersRules = () => applyDecorators(IsOptional(), ArrayMinSize(1), IsString({ each: true }));
const operationsRules = () =>
  applyDecorators(
    IsOptional(),
    ArrayMinSize(1),
    ArrayMaxSize(200),
    ValidateNested({ each: true }),
    Type(() => OperationInput),
  );
const visibilityRules = () => applyDecorators(IsOptional(), IsIn(VISIBILITIES));

@ObjectType()
export class Api {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field() version!: string;
  @Field() context!: string;
  @Field({ description: 'CREATED, PUBLISHED, DEPRECATED, RETIRED or BLOCKED' }) state!: string;
  @Field(() => [String]) upstreamUrls!: string[];
  @Field(() => Int) upstreamTimeoutMs!: number;
  @Field(() => [Operation]) operations!: Operation[];
  @Field(() => [String]) tiers!: string[];
  @Field() visibility!: string;
  @Field(() => String, { nullable: true, description: 'Throttling policy for the API as a whole (every caller, per gateway), or null' })
  throttlingPolicy!: string | null;
  @Field({ description: 'The DC that created it, which owns it in active-active mode' }) homeDc!: string;
  @Field(() => Int, { description: 'Stream version; pass it as expectedRevision to update without overwriting a concurrent change' })
  revision!: number;
}

@InputType()
export class CreateApiInput {
  @Field() @apiNameRules() name!: string;
  @Field() @IsString() @MaxLength(32) version!: string;
  @Field({ description: 'Path prefix, e.g. "/payments"' }) @IsString() @MaxLength(200) context!: string;
  @Field(() => [String]) @upstreamUrlsRules() upstreamUrls!: string[];
  @Field(() => Int, { nullable: true }) @upstreamTimeoutRules() upstreamTimeoutMs?: number;
  @Field(() => [String], { nullable: true, description: 'Default: every throttling policy' }) @tiersRules() tiers?: string[];

  @Field(() => [OperationInput], { nullable: true, description: 'Default: any method and path, behind an API key' })
  @operationsRules()
  operations?: OperationInput[];

  @Field({ nullable: true }) @visibilityRules() visibility?: string;

  @Field(() => String, { nullable: true, description: 'A throttling policy for the API as a whole, on top of the tiers. Default: none' })
  @IsOptional()
  @IsString()
  throttlingPolicy?: string | null;
}

@InputType()
export class UpdateApiInput {
  @Field({ nullable: true }) @IsOptional() @apiNameRules() name?: string;
  @Field(() => [String], { nullable: true }) @IsOptional() @upstreamUrlsRules() upstreamUrls?: string[];
  @Field(() => Int, { nullable: true }) @upstreamTimeoutRules() upstreamTimeoutMs?: number;
  @Field(() => [String], { nullable: true }) @tiersRules() tiers?: string[];
  @Field(() => [OperationInput], { nullable: true }) @operationsRules() operations?: OperationInput[];
  @Field({ nullable: true }) @visibilityRules() visibility?: string;

  @Field(() => String, { nullable: true, description: 'The API-wide throttling policy; null removes it' })
  @IsOptional()
  @IsString()
  throttlingPolicy?: string | null;

  @Field(() => Int, { nullable: true, description: 'Refuse with CONFLICT unless the API is still at this revision' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedRevision?: number;
}

/**
 * The API fields of an input as the domain types them: GraphQL carries
 * methods, auths and visibility as strings, the class-validator rules above
 * have checked them against the domain's lists.
 */
export function domainApiFields<T extends { operations?: OperationInput[]; visibility?: string }>(
  input: T,
): Omit<T, 'operations' | 'visibility'> & { operations?: DomainOperation[]; visibility?: Visibility } {
  return {
    ...input,
    operations: input.operations as DomainOperation[] | undefined,
    visibility: input.visibility as Visibility | undefined,
  };
}

@ObjectType()
export class ThrottlingPolicy {
  @Field() name!: string;
  @Field(() => Int) requestsPerMinute!: number;
  @Field(() => Int) burst!: number;
  @Field() unlimited!: boolean;
}

@InputType({ description: 'A throttling policy (tier) by its name, and its new rate' })
export class UpdateThrottlingPolicyInput {
  @Field()
  @Matches(POLICY_NAME, { message: 'name must be a policy name (1..40 characters [A-Za-z0-9 _-])' })
  name!: string;
  @Field(() => Int) @IsInt() @Min(1) @Max(100_000_000) requestsPerMinute!: number;
  @Field(() => Int, { nullable: true, description: 'Unchanged when left out' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  burst?: number;
}

@InputType()
export class CreateThrottlingPolicyInput {
  @Field()
  @Matches(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, { message: 'name must be 1..32 characters [A-Za-z0-9_-], starting with a letter' })
  name!: string;
  @Field(() => Int) @IsInt() @Min(1) @Max(100_000_000) requestsPerMinute!: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(0) @Max(100_000_000) burst?: number;
}
