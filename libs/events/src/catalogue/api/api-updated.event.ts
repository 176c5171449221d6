import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { AtLeastOneOf, EachHttpUrl, EachString } from '../field-rules';
import { API_VISIBILITIES, Operation } from './operation';

/**
 * `api.updated` v1: a change of the fields given (at least one). A field given
 * here obeys the same rule as in `api.created` v2, since it replaces that value.
 */
@AtLeastOneOf(['name', 'upstreamUrls', 'upstreamTimeoutMs', 'operations', 'tiers', 'visibility', 'throttlingPolicy'])
export class ApiUpdatedV1 {
  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @EachHttpUrl()
  upstreamUrls?: string[];

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(300_000)
  upstreamTimeoutMs?: number;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Operation)
  operations?: Operation[];

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @EachString()
  tiers?: string[];

  @IsOptional()
  @IsIn(API_VISIBILITIES)
  visibility?: (typeof API_VISIBILITIES)[number];

  /** The API's own throttling policy; null removes it. */
  @IsOptional()
  @IsString()
  throttlingPolicy?: string | null;
}
