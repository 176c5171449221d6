import { Pool } from 'undici';

export interface UpstreamTarget {
  pool: Pool;
  /** The upstream URL's own path, without a trailing slash ('' for none): requests go below it. */
  basePath: string;
  origin: string;
}

export interface UpstreamOptions {
  /** Keep-alive connections per upstream origin. */
  connections: number;
  /** How long an idle upstream connection is kept. */
  keepAliveTimeoutMs: number;
}

/**
 * Keep-alive connection pools, one per upstream origin, shared by every API
 * that points there, and a round-robin cursor per API over its upstream URLs.
 */
export class Upstreams {
  private readonly pools = new Map<string, Pool>();
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
      target = { origin: parsed.origin, basePath: parsed.pathname.replace(/\/+$/, ''), pool: this.pool(parsed.origin) };
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

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connections,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        pipelining: 1,
        connect: { timeout: 5000 },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}
