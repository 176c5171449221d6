import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { Checkpoints } from '../infrastructure/event-store/checkpoints';
import { EventImporter } from '../infrastructure/importer/event-importer';
import { OutboxRelay } from '../infrastructure/outbox/outbox-relay';
import { ProjectionRunner } from '../infrastructure/projections/projection-runner';
import { ControlPlaneConfig } from '../config/control-plane.config';

/** Prometheus metrics of the control plane, computed when scraped. */
@Injectable()
export class ControlPlaneMetrics {
  readonly registry = new Registry();

  constructor(
    config: ControlPlaneConfig,
    dataSource: DataSource,
    relay: OutboxRelay,
    projections: ProjectionRunner,
    importer: EventImporter,
  ) {
    this.registry.setDefaultLabels({ dc: config.DC_ID, service: 'control-plane' });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Gauge({
      name: 'apim_outbox_published_events',
      help: 'Events this process has published to apim.events',
      registers,
      collect() {
        this.set(relay.published);
      },
    });
    new Gauge({
      name: 'apim_outbox_pending_events',
      help: "This DC's events not yet published to Kafka",
      registers,
      async collect() {
        const at = await new Checkpoints(dataSource).get(OutboxRelay.CHECKPOINT);
        const [row] = await dataSource.query(
          `SELECT count(*)::int AS n FROM events WHERE origin_dc = $1 AND (transaction_id, position) > ($2::text::xid8, $3::bigint)`,
          [config.DC_ID, at.transactionId, at.position],
        );
        this.set(row.n);
      },
    });
    new Gauge({
      name: 'apim_projection_lag_events',
      help: 'Events recorded but not yet applied, per projection',
      labelNames: ['projection'],
      registers,
      async collect() {
        for (const [projection, lag] of Object.entries(await projections.lag())) this.set({ projection }, lag);
      },
    });
    new Gauge({
      name: 'apim_importer_events',
      help: 'Events read from other DCs by outcome, since start',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.set({ outcome: 'imported' }, importer.imported);
        this.set({ outcome: 'duplicate' }, importer.duplicates);
        this.set({ outcome: 'conflict' }, importer.conflicts);
        this.set({ outcome: 'dead-lettered' }, importer.deadLettered);
        this.set({ outcome: 'fenced' }, importer.fenced);
        this.set({ outcome: 'moved-aside' }, importer.movedAside);
        this.set({ outcome: 'conflict-resolved' }, importer.resolvedConflicts);
      },
    });
    new Gauge({
      name: 'apim_importer_lag_records',
      help: "Records of each peer mirror partition this DC's importer has not read yet",
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        for (const { topic, partition, lag } of importer.lagRecords()) this.set({ topic, partition: String(partition) }, lag);
      },
    });
    new Gauge({
      name: 'apim_importer_held_events',
      help: 'Events from other DCs waiting for a missing predecessor',
      registers,
      collect() {
        this.set(importer.held);
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
