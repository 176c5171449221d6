import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { EventFeed } from '../feed/event-feed';
import type { RateLimiter } from '../proxy/rate-limiter';
import type { TelemetryStats } from './telemetry-thread';
import type { TunnelCount } from '../proxy/upgrade-tunnel';

export interface GatewayMetricsSources {
  dc: string;
  gatewayId: string;
  feed: EventFeed;
  rateLimiter: RateLimiter;
  telemetry: TelemetryStats;
  lastSnapshotAt: () => number | null;
  tunnels: TunnelCount;
}

/** Prometheus metrics of a gateway (DESIGN.md section 8); the gauges are read when scraped. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics();

  constructor(sources: GatewayMetricsSources) {
    const { feed } = sources;
    this.registry.setDefaultLabels({ dc: sources.dc, service: 'gateway-worker', gateway: sources.gatewayId });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.registry.registerMetric(this.requests.counter() as never);
    this.registry.registerMetric(this.requests.histogram() as never);
    new Gauge({
      name: 'apim_gateway_event_lag_records',
      help: 'Records between the next offset to read and the end of each partition',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const p of feed.partitions()) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      },
    });
    new Gauge({
      name: 'apim_gateway_last_event_age_seconds',
      help: 'Age of the last event applied to the routing table (by its occurredAt); -1 before any',
      registers,
      collect() {
        const at = feed.building.lastAppliedEventAt;
        this.set(at === null ? -1 : Math.max(0, (Date.now() - Date.parse(at)) / 1000));
      },
    });
    const { tunnels } = sources;
    new Gauge({
      name: 'apim_gateway_websockets_open',
      help: 'Open WebSockets (upgrade tunnels) through this gateway; handshakes beyond WEBSOCKET_MAX_CONNECTIONS get 503',
      registers,
      collect() {
        this.set(tunnels.open);
      },
    });
    const { rateLimiter } = sources;
    new Gauge({
      name: 'apim_gateway_rate_limit_gateways',
      help: "Gateways sharing each policy's rate in this DC, this one included (each enforces 1/N); 1 with RATE_LIMIT_SCOPE=gateway",
      registers,
      collect() {
        this.set(rateLimiter.sharedBy);
      },
    });
    new Gauge({
      name: 'apim_gateway_ready',
      help: '1 when caught up with the event stream and following it',
      registers,
      collect() {
        this.set(feed.status().state === 'ready' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'apim_gateway_degraded',
      help: '1 when serving a routing table while Kafka is unreachable (from a snapshot, or frozen)',
      registers,
      collect() {
        this.set(feed.status().state === 'degraded' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'apim_gateway_kafka_up',
      help: '1 when the event consumer has fetched from Kafka recently',
      registers,
      collect() {
        this.set(feed.status().kafka === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'apim_gateway_routing_entries',
      help: 'Entries of the routing table by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, count] of Object.entries(feed.building.counts())) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'apim_gateway_events_applied',
      help: 'Events applied to the routing table since start',
      registers,
      collect() {
        this.set(feed.building.applied);
      },
    });
    new Gauge({
      name: 'apim_gateway_events_rejected',
      help: 'Undecodable or invalid records sent to the DLQ since start',
      registers,
      collect() {
        this.set(feed.rejected);
      },
    });
    new Gauge({
      name: 'apim_gateway_events_held',
      help: 'Events waiting for a missing predecessor of their stream',
      registers,
      collect() {
        this.set(feed.heldEvents());
      },
    });
    new Gauge({
      name: 'apim_gateway_snapshot_age_seconds',
      help: 'Seconds since the last snapshot was written by this process; -1 before any',
      registers,
      collect() {
        const at = sources.lastSnapshotAt();
        this.set(at === null ? -1 : (Date.now() - at) / 1000);
      },
    });
    new Gauge({
      name: 'apim_gateway_fence_rules',
      help: 'Fences of divergent events known (events of a fenced epoch this gateway skips)',
      registers,
      collect() {
        this.set(feed.fences.size);
      },
    });
    new Gauge({
      name: 'apim_gateway_table_rebuilds',
      help: 'Routing tables rebuilt since start because a fence reached events already applied',
      registers,
      collect() {
        this.set(feed.rebuilds);
      },
    });
    new Gauge({
      name: 'apim_gateway_rate_limit_buckets',
      help: 'Token buckets in memory',
      registers,
      collect() {
        this.set(sources.rateLimiter.size);
      },
    });
    new Gauge({
      name: 'apim_gateway_telemetry_records',
      help: 'Usage records and heartbeats by outcome: sent, buffered, dropped (Kafka unreachable too long)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.set({ outcome: 'sent' }, sources.telemetry.sent);
        this.set({ outcome: 'buffered' }, sources.telemetry.buffered);
        this.set({ outcome: 'dropped' }, sources.telemetry.dropped);
      },
    });
    new Gauge({
      name: 'apim_gateway_telemetry_thread_restarts',
      help: 'Telemetry threads started again since start because one ended (what it held counts as dropped)',
      registers,
      collect() {
        this.set(sources.telemetry.restarts);
      },
    });
  }

  /** Per request. */
  observe(apiId: string | null, status: number, seconds: number): void {
    this.requests.observe(apiId ?? 'none', status, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What prom-client's Registry reads from a metric it renders (`registerMetric`). */
interface ScrapedMetric {
  name: string;
  get(): Promise<{
    name: string;
    help: string;
    type: 'counter' | 'histogram';
    aggregator: 'sum';
    values: { labels: Record<string, string>; value: number; metricName?: string }[];
  }>;
}

interface LatencySeries {
  /** Per bucket (and a last one for +Inf), not cumulative. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * `apim_gateway_requests_total{api,status}` and
 * `apim_gateway_request_duration_seconds{api}`, counted per request in plain
 * numbers and turned into Prometheus series only when scraped. prom-client's
 * own Counter and Histogram validate and hash their labels on every
 * observation, even through `labels()`: ~4 % of the gateway's CPU. They are
 * registered as metric objects (`get()`), so the registry renders them with
 * the default labels like any other.
 */
export class RequestMetrics {
  private readonly counts = new Map<string, Map<number, number>>();
  private readonly latency = new Map<string, LatencySeries>();

  observe(api: string, status: number, seconds: number): void {
    let byStatus = this.counts.get(api);
    if (!byStatus) this.counts.set(api, (byStatus = new Map()));
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    let series = this.latency.get(api);
    if (!series) this.latency.set(api, (series = { buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 }));
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
    series.buckets[bucket]++;
    series.sum += seconds;
    series.count++;
  }

  counter(): ScrapedMetric {
    const name = 'apim_gateway_requests_total';
    return {
      name,
      get: async () => {
        const values: Awaited<ReturnType<ScrapedMetric['get']>>['values'] = [];
        for (const [api, byStatus] of this.counts)
          for (const [status, value] of byStatus) values.push({ labels: { api, status: String(status) }, value });
        return { name, help: 'Requests by API id ("none" when no API matched) and status', type: 'counter', aggregator: 'sum', values };
      },
    };
  }

  histogram(): ScrapedMetric {
    const name = 'apim_gateway_request_duration_seconds';
    return {
      name,
      get: async () => {
        const values: Awaited<ReturnType<ScrapedMetric['get']>>['values'] = [];
        for (const [api, series] of this.latency) {
          let cumulative = 0;
          for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
            cumulative += series.buckets[i];
            const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf';
            values.push({ labels: { le, api }, value: cumulative, metricName: `${name}_bucket` });
          }
          values.push({ labels: { api }, value: series.sum, metricName: `${name}_sum` });
          values.push({ labels: { api }, value: series.count, metricName: `${name}_count` });
        }
        return { name, help: 'Time from a request to the end of its response, by API id', type: 'histogram', aggregator: 'sum', values };
      },
    };
  }
}
