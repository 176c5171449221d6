import { UpstreamPool } from '../http/upstream-pool';
import type { SocketsKind } from '../http/wire';

export interface UpstreamTarget {
  pool: UpstreamPool;
  /** The upstream URL's own path, without a trailing slash ('' for none): requests go below it. */
  basePath: string;
  origin: string;
}

export interface UpstreamOptions {
  /** Keep-alive connections per upstream origin. */
  connections: number;
  /** How long an idle upstream connection is kept. */
  keepAliveTimeoutMs: number;
  sockets: SocketsKind;
}

/**
 * Keep-alive connection pools, one per upstream origin, shared by every API
 * that points there, and a round-robin cursor per API over its upstream URLs.
 */
export class Upstreams {
  private readonly pools = new Map<string, UpstreamPool>();
  /** Per upstream URL, resolved once: its pool and base path. */
  private readonly targets = new Map<string, UpstreamTarget>();
  private readonly cursors = new Map<string, number>();

  constructor(private readonly options: UpstreamOptions) {}

  /** The next upstream of `apiId` in round-robin order. */
  next(apiId: string, urls: readonly string[]): UpstreamTarget {
    const cursor = this.cursors.get(apiId) ?? 0;
    this.cursors.set(apiId, (cursor + 1) % urls.length);
    const url = urls[cursor % urls.length];
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, ''), pool: this.pool(parsed) };
      this.targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.targets.clear();
    await Promise.allSettled(pools.map((pool) => pool.close()));
  }

  private pool(url: URL): UpstreamPool {
    let pool = this.pools.get(url.origin);
    if (!pool) {
      pool = new UpstreamPool(new URL(url.origin), {
        connections: this.options.connections,
        keepAliveTimeoutMs: this.options.keepAliveTimeoutMs,
        connectTimeoutMs: 5000,
        sockets: this.options.sockets,
      });
      this.pools.set(url.origin, pool);
    }
    return pool;
  }
}
