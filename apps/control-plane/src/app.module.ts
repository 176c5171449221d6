import { DynamicModule, Module } from '@nestjs/common';
import { JsonLogger } from '@apim/events';
import { ControlPlaneConfig } from './config/control-plane.config';
import { ControlPlaneMetrics } from './health/control-plane.metrics';
import { HealthController } from './health/health.controller';
import { ApiModule } from './api.module';
import { InfrastructureModule } from './infrastructure/infrastructure.module';

@Module({})
export class AppModule {
  static register(config: ControlPlaneConfig, logger: JsonLogger): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [InfrastructureModule, ApiModule],
      controllers: [HealthController],
      providers: [ControlPlaneMetrics, { provide: ControlPlaneConfig, useValue: config }, { provide: JsonLogger, useValue: logger }],
      exports: [ControlPlaneConfig, JsonLogger],
    };
  }
}
