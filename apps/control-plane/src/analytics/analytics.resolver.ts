import { Args, Field, Float, ID, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { Authorized } from '../auth/roles.guard';
import { InputError } from '../graphql/input-validation';
import { usage } from './usage.query';

@ObjectType()
export class UsageMinute {
  @Field() minute!: Date;
  @Field(() => Int) requests!: number;
  @Field(() => Int) errors!: number;
}

@ObjectType()
export class UsageByDc {
  @Field() dc!: string;
  @Field(() => Int) requests!: number;
}

@ObjectType({ description: 'Traffic through the gateways of every DC, from apim.analytics and its mirrors' })
export class Usage {
  @Field(() => ID) apiId!: string;
  @Field() from!: Date;
  @Field() to!: Date;
  @Field(() => Int) requests!: number;
  @Field(() => Int, { description: 'Responses with status >= 500' }) errors!: number;
  @Field(() => Int, { description: 'Responses with status 400..499' }) clientErrors!: number;
  @Field(() => Float, { nullable: true }) averageLatencyMs!: number | null;
  @Field(() => Float, { nullable: true }) maxLatencyMs!: number | null;
  @Field(() => [UsageMinute]) byMinute!: UsageMinute[];
  @Field(() => [UsageByDc]) byDc!: UsageByDc[];
}

@Resolver(() => Usage)
export class AnalyticsResolver {
  constructor(private readonly db: DataSource) {}

  @Authorized('PUBLISHER', 'ADMIN')
  @Query(() => Usage, { description: 'Usage of an API in [from, to), at most 31 days' })
  async usage(
    @Args('apiId', { type: () => ID }) apiId: string,
    @Args('from', { description: 'ISO-8601' }) from: string,
    @Args('to', { description: 'ISO-8601' }) to: string,
  ): Promise<Usage> {
    const fromDate = new Date(from);
    const toDate = new Date(to);
    const bad = [Number.isNaN(fromDate.getTime()) ? 'from' : null, Number.isNaN(toDate.getTime()) ? 'to' : null].filter(
      (f): f is string => !!f,
    );
    if (bad.length > 0) throw new InputError(`${bad.join(', ')}: must be ISO-8601 date-times`, bad);
    return usage(this.db, { apiId, from: fromDate, to: toDate });
  }
}
