import { Controller, Get } from '@nestjs/common';
import { GatewayConfig } from '../config/gateway.config';

@Controller()
export class HealthController {
  constructor(private readonly config: GatewayConfig) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  healthz() {
    return { status: 'ok', service: 'gateway-worker', dc: this.config.DC_ID };
  }
}
