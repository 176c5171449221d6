import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

@ObjectType()
export class Application {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field({ description: 'Application-level throttling policy' }) policy!: string;
  @Field() ownerId!: string;
  @Field() homeDc!: string;
}

@InputType()
export class CreateApplicationInput {
  @Field() @IsString() @MinLength(1) @MaxLength(100) name!: string;
  @Field({ nullable: true, description: 'Default: Unlimited' }) @IsOptional() @IsString() @MaxLength(40) policy?: string;
}

@InputType({ description: 'What to change of an application; what is left out stays' })
export class UpdateApplicationInput {
  @Field({ nullable: true }) @IsOptional() @IsString() @MinLength(1) @MaxLength(100) name?: string;
  @Field({ nullable: true, description: 'Application-level throttling policy' }) @IsOptional() @IsString() @MaxLength(40) policy?: string;
}

@ObjectType()
export class Subscription {
  @Field(() => ID) id!: string;
  @Field(() => ID) applicationId!: string;
  @Field(() => ID) apiId!: string;
  @Field() tier!: string;
  @Field({ description: 'ACTIVE, BLOCKED or REMOVED' }) status!: string;
}
