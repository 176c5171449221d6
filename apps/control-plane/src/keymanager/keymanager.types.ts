import { Field, ID, ObjectType } from '@nestjs/graphql';

@ObjectType({ description: 'A new API key. `key` is shown this once: only its SHA-256 is kept.' })
export class GeneratedApiKey {
  @Field(() => ID) keyId!: string;
  @Field() key!: string;
  @Field() prefix!: string;
  @Field(() => String, { nullable: true }) expiresAt!: string | null;
}

@ObjectType()
export class ApiKey {
  @Field(() => ID) keyId!: string;
  @Field(() => ID) applicationId!: string;
  @Field() prefix!: string;
  @Field({ description: 'ACTIVE or REVOKED' }) status!: string;
  @Field(() => String, { nullable: true }) expiresAt!: string | null;
}

@ObjectType({ description: 'A new OAuth2 client. `clientSecret` is shown this once.' })
export class OAuthClientCredentials {
  @Field(() => ID) clientId!: string;
  @Field() clientSecret!: string;
}

@ObjectType({ description: 'An OAuth2 client of an application (never its secret)' })
export class OAuthClient {
  @Field(() => ID) clientId!: string;
  @Field(() => ID) applicationId!: string;
  @Field({ description: 'ACTIVE or REVOKED' }) status!: string;
  @Field() createdAt!: string;
}
