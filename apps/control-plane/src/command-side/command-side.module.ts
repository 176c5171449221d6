import { Global, Module } from '@nestjs/common';
import { AccessTokens } from '../auth/access-tokens';
import { SigningKeys } from '../keymanager/signing/signing-keys.service';
import { AggregateRepository } from './aggregate-repository';
import { WriteGuard } from './write-guard';

/** The shared pieces every module's handlers use: loading and appending aggregates, the region's write guard, keys and tokens. */
@Global()
@Module({
  providers: [AggregateRepository, WriteGuard, SigningKeys, AccessTokens],
  exports: [AggregateRepository, WriteGuard, SigningKeys, AccessTokens],
})
export class CommandSideModule {}
