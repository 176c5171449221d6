import { Controller, Get } from '@nestjs/common';
import { ReplicatorConfig } from '../config/replicator.config';

@Controller()
export class HealthController {
  constructor(private readonly config: ReplicatorConfig) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  healthz() {
    return { status: 'ok', service: 'replicator', dc: this.config.DC_ID, peers: [...this.config.peerBrokers.keys()] };
  }
}
