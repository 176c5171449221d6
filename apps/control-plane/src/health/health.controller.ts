import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { EventImporter } from '../infrastructure/importer/event-importer';
import { OutboxRelay } from '../infrastructure/outbox/outbox-relay';
import { ProjectionRunner } from '../infrastructure/projections/projection-runner';
import { ControlPlaneMetrics } from './control-plane.metrics';

@Controller()
export class HealthController {
  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly dataSource: DataSource,
    private readonly relay: OutboxRelay,
    private readonly projections: ProjectionRunner,
    private readonly importer: EventImporter,
    private readonly metrics: ControlPlaneMetrics,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('healthz')
  healthz() {
    return { status: 'ok', service: 'control-plane', dc: this.config.DC_ID };
  }

  /**
   * Readiness: the database answers (writes and queries need it). Kafka being
   * down degrades (events wait in the outbox) but does not make the DC unready.
   */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) response: Response) {
    let database: 'up' | 'down' = 'up';
    let projectionLag: Record<string, number> = {};
    try {
      await this.dataSource.query('SELECT 1');
      projectionLag = await this.projections.lag();
    } catch {
      database = 'down';
    }
    const kafka = this.relay.kafkaUp ? 'up' : 'down';
    const ready = database === 'up';
    response.status(ready ? 200 : 503);
    return {
      status: ready ? (kafka === 'up' ? 'ready' : 'degraded') : 'not-ready',
      dc: this.config.DC_ID,
      database,
      kafka,
      kafkaError: this.relay.lastError ?? (this.relay.kafkaUp ? undefined : 'not connected to Kafka yet'),
      projectionLag,
      projectionError: this.projections.lastError ?? undefined,
      importerHeldEvents: this.importer.held,
    };
  }

  @Get('metrics')
  @HttpCode(200)
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.render();
  }
}
