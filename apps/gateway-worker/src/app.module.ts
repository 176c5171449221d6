import { DynamicModule, Module } from '@nestjs/common';
import { GatewayConfig } from './config/gateway.config';
import { HealthController } from './health/health.controller';

@Module({})
export class AppModule {
  static register(config: GatewayConfig): DynamicModule {
    return { module: AppModule, controllers: [HealthController], providers: [{ provide: GatewayConfig, useValue: config }] };
  }
}
