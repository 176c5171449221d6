import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import {
  createKafka,
  encodeReplicationHeartbeat,
  ensureTopics,
  JsonLogger,
  listenServerTls,
  MIRRORED_TOPICS,
  reloadServerTlsOnHangUp,
  REPLICATION_HEARTBEAT,
  ReplicationHeartbeat,
  TelemetryProducer,
  TOPICS,
  within,
} from '@apim/events';
import { ReplicatorConfig } from './config/replicator.config';
import { SourceMirror } from './mirror/source-mirror';

/**
 * One replicator process of a DC: a `SourceMirror` per peer DC pulling that
 * peer's local topics into this DC's cluster, a heartbeat per peer every
 * `HEARTBEAT_INTERVAL_MS` into this DC's `apim.heartbeats` (so the control
 * plane knows the lag even when nothing flows), and `/healthz`, `/readyz`,
 * `/metrics` on `PORT`.
 */
export class Replicator {
  readonly mirrors: SourceMirror[];
  readonly replicatorId = `replicator-${randomBytes(4).toString('hex')}`;
  private readonly telemetry: TelemetryProducer;
  private readonly registry = new Registry();
  private readonly server: Server;
  private heartbeatTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly target: ReturnType<typeof createKafka>;

  constructor(
    private readonly config: ReplicatorConfig,
    private readonly logger: JsonLogger,
  ) {
    // This DC's cluster with its KAFKA_TLS* / KAFKA_SASL_* identity; each peer's with its own, if it has one (config.sources).
    const target = createKafka({ brokers: config.brokers, clientId: `replicator-${config.DC_ID}`, logger, security: config.kafkaSecurity });
    this.telemetry = new TelemetryProducer(target, logger, { flushIntervalMs: 200, maxBuffered: 10_000 });
    this.mirrors = config.sources.map(
      ({ dc, brokers, security }) =>
        new SourceMirror({
          source: dc,
          target: config.DC_ID,
          sourceKafka: createKafka({ brokers, clientId: `replicator-${config.DC_ID}-from-${dc}`, logger, security }),
          targetKafka: target,
          topics: MIRRORED_TOPICS,
          logger,
          refreshMs: config.TOPOLOGY_REFRESH_MS,
          commitWhenIdleMs: config.MIRROR_COMMIT_IDLE_MS,
          commitAtMostMs: config.MIRROR_COMMIT_MAX_MS,
        }),
    );
    this.registerMetrics();
    this.server = createServer((req, res) => this.route(req, res));
    this.target = target;
  }

  /** HTTPS on TLS_PORT, when a certificate is configured: the same routes as `server`. */
  private secureServer: (HttpsServer & { port: number }) | null = null;

  async start(): Promise<void> {
    // Heartbeats need their topic: created once here (retried in the background), not by each mirror session.
    void this.ensureHeartbeatTopic(this.target);
    for (const mirror of this.mirrors) mirror.start();
    this.telemetry.start();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.config.HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.PORT, '0.0.0.0', () => resolve());
    });
    this.secureServer = await listenServerTls(this.config, (req, res) => this.route(req, res));
    reloadServerTlsOnHangUp(this.config, this.logger, (pair) => this.secureServer?.setSecureContext(pair));
    this.logger.info('listening', {
      port: this.config.PORT,
      ...(this.secureServer ? { tlsPort: this.secureServer.port } : {}),
      replicatorId: this.replicatorId,
      sources: this.mirrors.map((m) => m.checkpointGroup),
    });
  }

  /** Stops pulling (a transaction in flight ends first), sends a last heartbeat, closes the port. Every step bounded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    // Bounded, so that a stop during a start-up against an unreachable cluster (kafkajs retrying) ends well within a
    // supervisor's grace period. Nothing is lost by not waiting: an open transaction is aborted by the broker, or
    // fenced by the next instance, and mirroring resumes from the committed checkpoints.
    await within(5000, Promise.all(this.mirrors.map((mirror) => mirror.stop())));
    this.heartbeat();
    await this.telemetry.stop();
    const servers = this.secureServer ? [this.server, this.secureServer] : [this.server];
    await within(2000, Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));
    this.logger.info('stopped', { mirrored: this.mirrors.map((m) => m.progress.mirroredTotal) });
  }

  /** What a heartbeat says about one source, also the body of `/readyz`. */
  status(mirror: SourceMirror, now = Date.now()): ReplicationHeartbeat {
    const partitions = mirror.progress.report(now, this.config.SOURCE_DOWN_AFTER_MS);
    const sourceDown = mirror.progress.sourceSilentFor(now) > this.config.SOURCE_DOWN_AFTER_MS;
    return {
      kind: REPLICATION_HEARTBEAT,
      source: mirror.options.source,
      target: this.config.DC_ID,
      replicatorId: this.replicatorId,
      state: sourceDown && mirror.state === 'mirroring' ? 'source-down' : mirror.state,
      at: new Date(now).toISOString(),
      lagRecords: partitions.reduce((sum, p) => sum + p.lagRecords, 0),
      lagMs: partitions.reduce((max, p) => Math.max(max, p.lagMs), 0),
      recordsPerSecond: mirror.progress.recordsPerSecond(now),
      partitions,
    };
  }

  private heartbeat(): void {
    for (const mirror of this.mirrors) this.telemetry.enqueue(TOPICS.heartbeats, encodeReplicationHeartbeat(this.status(mirror)));
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/healthz')
      return json(res, 200, {
        status: 'ok',
        service: 'replicator',
        dc: this.config.DC_ID,
        peers: this.mirrors.map((m) => m.options.source),
      });
    if (req.url === '/readyz') {
      const sources = this.mirrors.map((mirror) => ({ ...this.status(mirror), lastError: mirror.lastError, partitions: undefined }));
      const ready = sources.every((source) => source.state === 'mirroring');
      const reason = ready
        ? 'mirroring every peer'
        : sources
            .filter((source) => source.state !== 'mirroring')
            .map((source) => `${source.source}: ${source.state}${source.lastError ? ` (${source.lastError})` : ''}`)
            .join('; ');
      return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not-ready', reason, dc: this.config.DC_ID, sources });
    }
    if (req.url === '/metrics') {
      void this.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(text);
        },
        () => json(res, 500, { error: 'INTERNAL', message: 'metrics could not be collected' }),
      );
      return;
    }
    json(res, 404, { error: 'NOT_FOUND', message: 'the replicator serves /healthz, /readyz and /metrics' });
  }

  private registerMetrics(): void {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ dc: this.config.DC_ID, service: 'replicator' });
    collectDefaultMetrics({ register: this.registry });
    const mirrors = this.mirrors;
    const reports = () =>
      mirrors.map((mirror) => ({ mirror, partitions: mirror.progress.report(Date.now(), this.config.SOURCE_DOWN_AFTER_MS) }));
    new Counter({
      name: 'apim_replicator_records_total',
      help: 'Records mirrored (committed in this cluster), by source DC',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const mirror of mirrors) this.inc({ source: mirror.options.source }, mirror.progress.mirroredTotal);
      },
    });
    new Gauge({
      name: 'apim_replicator_records_per_second',
      help: 'Records mirrored per second over the last 10 s, by source DC',
      labelNames: ['source'],
      registers,
      collect() {
        for (const mirror of mirrors) this.set({ source: mirror.options.source }, mirror.progress.recordsPerSecond(Date.now()));
      },
    });
    new Gauge({
      name: 'apim_replicator_lag_records',
      help: 'Source records not yet mirrored, per source DC, topic and partition',
      labelNames: ['source', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const { mirror, partitions } of reports())
          for (const p of partitions) this.set({ source: mirror.options.source, topic: p.topic, partition: p.partition }, p.lagRecords);
      },
    });
    new Gauge({
      name: 'apim_replicator_lag_ms',
      help: 'Age in ms of the oldest source record not yet mirrored (0 when none), per source DC, topic and partition',
      labelNames: ['source', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const { mirror, partitions } of reports())
          for (const p of partitions) this.set({ source: mirror.options.source, topic: p.topic, partition: p.partition }, p.lagMs);
      },
    });
    new Gauge({
      name: 'apim_replicator_up',
      help: '1 while mirroring a source, 0 while its cluster or this one does not answer',
      labelNames: ['source'],
      registers,
      collect() {
        for (const mirror of mirrors) this.set({ source: mirror.options.source }, mirror.state === 'mirroring' ? 1 : 0);
      },
    });
    new Counter({
      name: 'apim_replicator_transactions_total',
      help: 'Transactions committed in this cluster (records and checkpoint together), by source DC',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const mirror of mirrors) this.inc({ source: mirror.options.source }, mirror.transactions);
      },
    });
    new Counter({
      name: 'apim_replicator_sessions_total',
      help: 'Mirror sessions started (the first, then one per retry or topology change), by source DC',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const mirror of mirrors) this.inc({ source: mirror.options.source }, mirror.sessions);
      },
    });
    const telemetry = this.telemetry;
    new Gauge({
      name: 'apim_replicator_heartbeats_dropped',
      help: 'Heartbeats dropped because this cluster did not take them in time',
      registers,
      collect() {
        this.set(telemetry.dropped);
      },
    });
  }

  private async ensureHeartbeatTopic(kafka: ReturnType<typeof createKafka>): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        await ensureTopics(admin, [TOPICS.heartbeats]);
        return;
      } catch (error) {
        this.logger.warn('cannot create apim.heartbeats yet; retrying', { attempt, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))));
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
