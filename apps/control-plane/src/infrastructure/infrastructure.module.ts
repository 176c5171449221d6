import { Global, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { createKafka, ensureTopics, JsonLogger, mirrorTopic, TOPICS } from '@apim/events';
import { WriteGuard } from '../command-side/write-guard';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { createDataSource, runMigrationsLocked } from './database/data-source';
import { PostgresEventStore } from './event-store/postgres-event-store';
import { UsageIngestor } from '../analytics/usage-ingestor';
import { GatewayDirectory } from '../region/gateway-directory';
import { controlPlaneImporter } from './importer/control-plane-importer';
import { EventImporter } from './importer/event-importer';
import { OutboxRelay } from './outbox/outbox-relay';
import { restoreUnfinished } from './restore/dc-restore';
import { allProjections } from './projections/catalogue';
import { ProjectionRunner } from './projections/projection-runner';

export const KAFKA = Symbol('KAFKA');
export const PRODUCER = Symbol('PRODUCER');

/** Starts and stops the background work of the command side: outbox relay and projections. */
@Injectable()
export class EventSourcingLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly logger: JsonLogger,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(PRODUCER) private readonly producer: Producer,
    readonly relay: OutboxRelay,
    readonly projections: ProjectionRunner,
    readonly importer: EventImporter,
    readonly usage: UsageIngestor,
    readonly gateways: GatewayDirectory,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.projections.start();
    // Kafka may be down at start: appends and queries work without it, and the
    // Kafka side starts in the background once the cluster answers.
    this.kafkaWork = this.startKafkaWork();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.kafkaWork;
    await this.gateways.stop();
    await this.usage.stop();
    await this.importer.stop();
    await this.relay.stop();
    await this.projections.stop();
    await this.producer.disconnect().catch(() => undefined);
  }

  private stopping = false;
  private kafkaWork: Promise<void> = Promise.resolve();

  /**
   * Creates the topics first: a producer that sends before its topic has
   * leaders on every partition can reorder a batch on retry. Then the relay,
   * then the importer (which needs a reachable cluster to join its group),
   * then the consumers of telemetry: usage records and gateway heartbeats.
   */
  private async startKafkaWork(): Promise<void> {
    if (!(await this.retrying('topics', () => this.createTopics()))) return;
    this.relay.start();
    await this.retrying(
      'importer',
      () => this.importer.start(),
      () => this.importer.stop(),
    );
    await this.retrying(
      'usage ingestor',
      () => this.usage.start(),
      () => this.usage.stop(),
    );
    await this.retrying(
      'gateway directory',
      () => this.gateways.start(),
      () => this.gateways.stop(),
    );
  }

  private async retrying(what: string, attempt: () => Promise<void>, cleanUp?: () => Promise<void>): Promise<boolean> {
    for (let delayMs = 500; !this.stopping; delayMs = Math.min(delayMs * 2, 10_000)) {
      try {
        await attempt();
        return true;
      } catch (error) {
        this.logger.warn(`${what}: Kafka not ready yet; retrying`, { error: (error as Error).message, retryInMs: delayMs });
        await cleanUp?.().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
    return false;
  }

  private async createTopics(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(admin, [TOPICS.events, TOPICS.dlq]);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

@Global()
@Module({
  providers: [
    {
      provide: DataSource,
      inject: [ControlPlaneConfig],
      useFactory: async (config: ControlPlaneConfig) => {
        const dataSource = await createDataSource(config.DATABASE_URL, {
          applicationName: `apim-control-plane-${config.DC_ID}`,
        }).initialize();
        await runMigrationsLocked(dataSource);
        if (await restoreUnfinished(dataSource)) {
          await dataSource.destroy();
          throw new Error(
            `a restore of ${config.DC_ID} (npm run dc:restore) began and has not finished: run it again to completion before starting the control plane`,
          );
        }
        return dataSource;
      },
    },
    { provide: PostgresEventStore, inject: [DataSource], useFactory: (dataSource: DataSource) => new PostgresEventStore(dataSource) },
    {
      provide: KAFKA,
      inject: [ControlPlaneConfig, JsonLogger],
      useFactory: (config: ControlPlaneConfig, logger: JsonLogger) =>
        createKafka({ brokers: config.brokers, clientId: `control-plane-${config.DC_ID}`, logger, security: config.kafkaSecurity }),
    },
    {
      provide: PRODUCER,
      inject: [KAFKA],
      useFactory: (kafka: Kafka) => kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 } }),
    },
    {
      provide: OutboxRelay,
      inject: [DataSource, PRODUCER, ControlPlaneConfig, JsonLogger],
      useFactory: (db: DataSource, producer: Producer, config: ControlPlaneConfig, logger: JsonLogger) =>
        new OutboxRelay({ db, producer, dc: config.DC_ID, logger: logger.child({ component: 'outbox-relay' }) }),
    },
    {
      provide: ProjectionRunner,
      inject: [DataSource, JsonLogger],
      useFactory: (db: DataSource, logger: JsonLogger) =>
        new ProjectionRunner(db, allProjections(), logger.child({ component: 'projections' })),
    },
    {
      provide: EventImporter,
      inject: [DataSource, KAFKA, PRODUCER, ControlPlaneConfig, JsonLogger, PostgresEventStore, ProjectionRunner],
      useFactory: (
        db: DataSource,
        kafka: Kafka,
        producer: Producer,
        config: ControlPlaneConfig,
        logger: JsonLogger,
        store: PostgresEventStore,
        projections: ProjectionRunner,
      ) =>
        controlPlaneImporter({
          db,
          kafka,
          producer,
          dc: config.DC_ID,
          topics: config.peerDcs.map((dc) => mirrorTopic(dc, TOPICS.events)),
          logger: logger.child({ component: 'importer' }),
          region: new WriteGuard(config, store),
          projections,
        }),
    },
    {
      provide: UsageIngestor,
      inject: [DataSource, KAFKA, ControlPlaneConfig, JsonLogger],
      useFactory: (db: DataSource, kafka: Kafka, config: ControlPlaneConfig, logger: JsonLogger) =>
        new UsageIngestor({
          db,
          kafka,
          dc: config.DC_ID,
          topics: [TOPICS.analytics, ...config.peerDcs.map((dc) => mirrorTopic(dc, TOPICS.analytics))],
          logger: logger.child({ component: 'usage-ingestor' }),
        }),
    },
    {
      provide: GatewayDirectory,
      inject: [DataSource, KAFKA, ControlPlaneConfig, JsonLogger],
      useFactory: (db: DataSource, kafka: Kafka, config: ControlPlaneConfig, logger: JsonLogger) =>
        new GatewayDirectory({
          db,
          kafka,
          dc: config.DC_ID,
          forgetAfterSeconds: config.GATEWAY_FORGET_AFTER_SECONDS,
          logger: logger.child({ component: 'gateway-directory' }),
        }),
    },
    EventSourcingLifecycle,
  ],
  exports: [DataSource, PostgresEventStore, KAFKA, PRODUCER, OutboxRelay, ProjectionRunner, EventImporter],
})
export class InfrastructureModule {}
