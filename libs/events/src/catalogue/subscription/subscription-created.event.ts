import 'reflect-metadata';
import { IsString } from 'class-validator';

/** `subscription.created` v1: ACTIVE (also after a REMOVED one). Stream id `sub:<applicationId>:<apiId>`. */
export class SubscriptionCreatedV1 {
  @IsString()
  applicationId!: string;

  @IsString()
  apiId!: string;

  @IsString()
  tier!: string;
}
