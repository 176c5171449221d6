import { Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum RoleName {
  ADMIN = 'ADMIN',
  PUBLISHER = 'PUBLISHER',
  DEVELOPER = 'DEVELOPER',
}
registerEnumType(RoleName, { name: 'Role' });

@ObjectType()
export class AuthPayload {
  @Field() accessToken!: string;
  @Field(() => Int, { description: 'Seconds until the token expires' }) expiresIn!: number;
}

@ObjectType()
export class User {
  @Field() username!: string;
  @Field(() => [RoleName]) roles!: RoleName[];
}
