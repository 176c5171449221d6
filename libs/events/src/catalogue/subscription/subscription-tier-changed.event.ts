import 'reflect-metadata';
import { IsString } from 'class-validator';

/** `subscription.tier-changed` v1: an ACTIVE or BLOCKED subscription moves to another tier its API offers (a block stays). */
export class SubscriptionTierChangedV1 {
  @IsString()
  tier!: string;
}
