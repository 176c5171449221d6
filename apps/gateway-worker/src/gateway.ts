import {
  createKafka,
  deadLetterMessage,
  encodeGatewayHeartbeat,
  eventTopics,
  GATEWAY_HEARTBEAT,
  JsonLogger,
  ServerTlsPair,
  TOPICS,
  within,
} from '@apim/events';
import { GatewayConfig } from './config/gateway.config';
import { EventFeed } from './feed/event-feed';
import { PeerGateways, PeerHeartbeats } from './feed/peer-gateways';
import { HttpServer, ServerRequest, ServerResponse } from './http/http-server';
import { socketsKind, SocketsKind } from './http/wire';
import { SnapshotStore } from './feed/snapshot-store';
import { ApiProxy, ProxiedRequest } from './proxy/api-proxy';
import { TunnelCount } from './proxy/upgrade-tunnel';
import { refuse, sendRefusal } from './proxy/gateway-errors';
import { RateLimiter } from './proxy/rate-limiter';
import { Upstreams } from './proxy/upstreams';
import { GatewayMetrics } from './telemetry/gateway-metrics';
import { TelemetryThread } from './telemetry/telemetry-thread';

const VERSION = process.env.npm_package_version ?? '0.1.0';

/**
 * One gateway process: the event feed that builds the routing table, the proxy
 * that serves API traffic from it, and the operator's endpoints (`/healthz`,
 * `/readyz`, `/metrics`) on the same port. Those three paths cannot clash with
 * an API, which always has a context and a version segment.
 */
export class Gateway {
  readonly feed: EventFeed;
  private readonly server: HttpServer;
  /** HTTPS on TLS_PORT, when a certificate is configured: the same routes as `server`. */
  private readonly tlsServer: HttpServer | null;
  private readonly telemetry: TelemetryThread;
  private readonly metrics: GatewayMetrics;
  private readonly rateLimiter = new RateLimiter();
  private readonly sockets: SocketsKind;
  private readonly upstreams: Upstreams;
  private readonly proxy: ApiProxy;
  private readonly snapshots?: SnapshotStore;
  /** The DC's gateways that share the rate limits (RATE_LIMIT_SCOPE=dc). */
  private readonly peerHeartbeats?: PeerHeartbeats;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly gatewayId: string;
  private readonly startedAt = new Date().toISOString();
  private lastSnapshotAt: number | null = null;

  constructor(
    private readonly config: GatewayConfig,
    private readonly logger: JsonLogger,
  ) {
    this.gatewayId = config.gatewayId;
    const clientId = `gateway-${config.DC_ID}-${this.gatewayId}`;
    const security = config.kafkaSecurity;
    const kafka = createKafka({ brokers: config.brokers, clientId, logger, security });
    this.telemetry = new TelemetryThread(
      {
        brokers: config.brokers,
        clientId: `${clientId}-telemetry`,
        gatewayId: this.gatewayId,
        dc: config.DC_ID,
        logLevel: config.LOG_LEVEL,
        security,
      },
      logger,
    );
    this.feed = new EventFeed({
      kafka,
      dc: config.DC_ID,
      gatewayId: this.gatewayId,
      topics: eventTopics(config.peerDcs),
      writesTo: [TOPICS.analytics, TOPICS.heartbeats, TOPICS.dlq],
      logger,
      deadLetter: async (letter) => this.telemetry.enqueue(TOPICS.dlq, deadLetterMessage(letter, `gateway-${this.gatewayId}`)),
    });
    if (config.SNAPSHOT_FILE) this.snapshots = new SnapshotStore(config.SNAPSHOT_FILE, config.DC_ID);
    if (config.RATE_LIMIT_SCOPE === 'dc') {
      // A gateway silent for three heartbeats no longer takes a share (the DC's gateways share one interval).
      const timeoutMs = 3 * config.HEARTBEAT_INTERVAL_SECONDS * 1000;
      const peers = new PeerGateways({
        dc: config.DC_ID,
        gatewayId: this.gatewayId,
        timeoutMs,
        onChange: (gateways) => {
          this.rateLimiter.setGateways(gateways);
          logger.info('rate limits shared by the serving gateways of this DC', { gateways });
        },
      });
      this.peerHeartbeats = new PeerHeartbeats(kafka, peers, timeoutMs, logger);
    }
    this.sockets = socketsKind(config.GATEWAY_SOCKETS);
    this.upstreams = new Upstreams({ connections: config.UPSTREAM_CONNECTIONS, keepAliveTimeoutMs: 30_000, sockets: this.sockets });
    const tunnels = new TunnelCount(config.WEBSOCKET_MAX_CONNECTIONS);
    this.metrics = new GatewayMetrics({
      tunnels,
      dc: config.DC_ID,
      gatewayId: this.gatewayId,
      feed: this.feed,
      rateLimiter: this.rateLimiter,
      telemetry: this.telemetry,
      lastSnapshotAt: () => this.lastSnapshotAt,
    });
    this.proxy = new ApiProxy({
      table: () => this.feed.table,
      upstreams: this.upstreams,
      rateLimiter: this.rateLimiter,
      issuer: config.APIM_ISSUER,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      onDone: (request) => this.record(request),
      tunnels,
    });
    const serverOptions = {
      headersTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      onHandlerError: (error: Error) => logger.error('request failed in the gateway', { error: error.message }),
      sockets: this.sockets,
    };
    this.server = new HttpServer((req, res) => this.route(req, res), serverOptions);
    const tls = config.tls;
    this.tlsServer = tls ? new HttpServer((req, res) => this.route(req, res), { ...serverOptions, tls }) : null;
  }

  /** New HTTPS connections get this certificate and key (a rotation: SIGHUP, see main.ts); open ones keep theirs. */
  setTls(pair: ServerTlsPair): void {
    this.tlsServer?.setSecureContext(pair);
  }

  async start(): Promise<void> {
    this.restoreSnapshot();
    this.feed.start();
    this.peerHeartbeats?.start();
    this.telemetry.start();
    this.every(this.config.HEARTBEAT_INTERVAL_SECONDS * 1000, () => this.heartbeat());
    this.every(this.config.SNAPSHOT_INTERVAL_SECONDS * 1000, () => this.saveSnapshot());
    this.every(60_000, () => {
      this.rateLimiter.prune();
      this.feed.building.purgeExpiredRevocations();
    });
    await this.server.listen(this.config.PORT, '0.0.0.0');
    await this.tlsServer?.listen(this.config.TLS_PORT, '0.0.0.0');
    if (this.sockets !== this.config.GATEWAY_SOCKETS)
      this.logger.warn('raw sockets are not available on this Node.js; using node:net (slower)', { node: process.version });
    this.logger.info('listening', {
      port: this.config.PORT,
      ...(this.tlsServer ? { tlsPort: this.tlsServer.port } : {}),
      gatewayId: this.gatewayId,
      sockets: this.sockets,
    });
  }

  /**
   * Writes a snapshot first (whatever happens next, the table on disk is
   * current), stops serving, lets go of Kafka, writes the final snapshot and
   * flushes telemetry. Every step is bounded, so a stuck peer cannot hold
   * the shutdown past the orchestrator's grace period.
   */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.saveSnapshot();
    const servers = this.tlsServer ? [this.server, this.tlsServer] : [this.server];
    await within(3000, Promise.all(servers.map((server) => server.close())));
    for (const server of servers) server.destroyAll();
    await within(5000, Promise.all([this.feed.stop(), this.peerHeartbeats?.stop()]));
    this.saveSnapshot();
    // The last heartbeat says so: the DC's other gateways take back its share of the rate limits at once.
    this.heartbeat('stopped');
    await this.telemetry.stop();
    await within(2000, this.upstreams.close());
    this.logger.info('stopped', { snapshot: this.lastSnapshotAt !== null });
  }

  private route(req: ServerRequest, res: ServerResponse): void {
    const path = req.url;
    if (path === '/healthz')
      return this.json(res, 200, { status: 'ok', service: 'gateway-worker', dc: this.config.DC_ID, gatewayId: this.gatewayId });
    if (path === '/readyz') {
      const status = this.feed.status();
      const serving = status.state === 'ready' || status.state === 'degraded';
      return this.json(res, serving ? 200 : 503, {
        status: status.state,
        reason: status.reason,
        kafka: status.kafka,
        source: status.source,
        lag: this.feed.lag(),
        dc: this.config.DC_ID,
        gatewayId: this.gatewayId,
      });
    }
    if (path === '/metrics') {
      void this.metrics.render().then(
        (text) => res.send(200, { 'content-type': this.metrics.registry.contentType }, text),
        () => sendRefusal(res, refuse(500, 'INTERNAL', 'metrics could not be collected')),
      );
      return;
    }
    this.proxy.handle(req, res);
  }

  private record(request: ProxiedRequest): void {
    const seconds = Number(process.hrtime.bigint() - request.startedAtHr) / 1e9;
    this.metrics.observe(request.api?.id ?? null, request.status, seconds);
    if (!request.api) return;
    this.telemetry.usage({
      apiId: request.api.id,
      applicationId: request.applicationId,
      status: request.status,
      latencyMs: seconds * 1000,
      requestBytes: request.requestBytes,
      responseBytes: request.responseBytes,
      startedAt: request.startedAt,
    });
  }

  private heartbeat(state: string = this.feed.status().state): void {
    const table = this.feed.building;
    const positions = this.feed.partitions();
    this.telemetry.enqueue(
      TOPICS.heartbeats,
      encodeGatewayHeartbeat({
        kind: GATEWAY_HEARTBEAT,
        gatewayId: this.gatewayId,
        dc: this.config.DC_ID,
        version: VERSION,
        state,
        startedAt: this.startedAt,
        at: new Date().toISOString(),
        positions,
        lag: positions.reduce((sum, p) => sum + p.lag, 0),
        digest: table.digest(),
        lastEventAt: table.lastAppliedEventAt,
      }),
    );
  }

  private restoreSnapshot(): void {
    if (!this.snapshots?.exists()) return;
    const loaded = this.snapshots.load();
    if ('refused' in loaded) {
      this.logger.warn('snapshot not used; rebuilding from Kafka', { reason: loaded.refused });
      return;
    }
    this.feed.restore(loaded.snapshot);
    this.logger.info('routing table restored from snapshot', { file: this.snapshots.file, writtenAt: loaded.snapshot.writtenAt });
  }

  private saveSnapshot(): void {
    // An empty table that never caught up is worth less than the snapshot already on disk.
    if (!this.snapshots || !this.feed.table) return;
    try {
      const bytes = this.snapshots.save({
        gatewayId: this.gatewayId,
        writtenAt: new Date().toISOString(),
        positions: this.feed.positions(),
        table: this.feed.building.toState(),
        fences: this.feed.fences.toState(),
      });
      this.lastSnapshotAt = Date.now();
      this.logger.debug('snapshot written', { file: this.snapshots.file, bytes });
    } catch (error) {
      this.logger.error('snapshot could not be written', { file: this.snapshots.file, error: (error as Error).message });
    }
  }

  private every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.send(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, JSON.stringify(body));
  }
}
