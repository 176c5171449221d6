import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { EachHttpUrl, EachString, IsApiContext, IsApiVersion, IsHttpUrl } from '../field-rules';
import { API_VISIBILITIES, Operation } from './operation';

/** `api.created` v2: an API is drafted (state CREATED). */
export class ApiCreatedV2 {
  @IsString()
  name!: string;

  @IsApiVersion()
  version!: string;

  @IsApiContext()
  context!: string;

  @IsArray()
  @ArrayMinSize(1)
  @EachHttpUrl()
  upstreamUrls!: string[];

  @IsInt()
  @Min(100)
  @Max(300_000)
  upstreamTimeoutMs!: number;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Operation)
  operations!: Operation[];

  @IsArray()
  @ArrayMinSize(1)
  @EachString()
  tiers!: string[];

  @IsIn(API_VISIBILITIES)
  visibility!: (typeof API_VISIBILITIES)[number];

  /** A throttling policy for the API as a whole (every caller, per gateway); absent (older events) or null for none. */
  @IsOptional()
  @IsString()
  throttlingPolicy?: string | null;
}

/** `api.created` v1 (history): one upstream, no timeout, no visibility. Upcast to v2 on read. */
export class ApiCreatedV1 {
  @IsString()
  name!: string;

  @IsApiVersion()
  version!: string;

  @IsApiContext()
  context!: string;

  @IsHttpUrl()
  upstreamUrl!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Operation)
  operations!: Operation[];

  @IsArray()
  @EachString()
  tiers!: string[];
}
