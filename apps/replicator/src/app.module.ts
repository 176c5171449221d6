import { DynamicModule, Module } from '@nestjs/common';
import { ReplicatorConfig } from './config/replicator.config';
import { HealthController } from './health/health.controller';

@Module({})
export class AppModule {
  static register(config: ReplicatorConfig): DynamicModule {
    return { module: AppModule, controllers: [HealthController], providers: [{ provide: ReplicatorConfig, useValue: config }] };
  }
}
