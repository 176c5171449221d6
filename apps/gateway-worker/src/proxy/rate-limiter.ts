import type { Policy } from '../routing/routing-table';

/** One limit that applies to a request: the bucket's key and the policy that sizes it. */
export interface Limit {
  key: string;
  policy: Policy;
}

/** The outcome for a request, with what the `RateLimit-*` headers report (the tightest bucket). */
export interface RateDecision {
  allowed: boolean;
  /** Requests per minute of the tightest bucket. */
  limit: number;
  remaining: number;
  /** Seconds until the tightest bucket is full again. */
  resetSeconds: number;
  /** When refused: seconds until one request fits. */
  retryAfterSeconds: number;
  /** The key of the bucket that refused, when refused. */
  refusedBy?: string;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** Capacity and refill rate, so a changed policy resizes the bucket. */
  capacity: number;
  perMs: number;
}

/** Rates like 1/3 of a token per minute are not exact in binary: a token that is 1 - 1e-16 counts as whole. */
const EPSILON = 1e-9;

/** Milliseconds rounded up to whole seconds, ignoring floating-point dust. */
const wholeSeconds = (ms: number) => Math.ceil(ms / 1000 - EPSILON);

const UNLIMITED: RateDecision = { allowed: true, limit: 0, remaining: 0, resetSeconds: 0, retryAfterSeconds: 0 };

/**
 * Token buckets, one per key (subscription, application, API). A bucket holds
 * `requestsPerMinute + burst` tokens and refills at `requestsPerMinute` per
 * minute; a request takes one token from every bucket that applies, or from
 * none when any of them is empty.
 *
 * Buckets live in this process, and the request path never waits on the
 * network. When N gateways share a DC's rate limits (`setGateways`, from
 * their heartbeats), each bucket holds and refills 1/N of the policy, so the
 * DC as a whole admits the policy's rate when the load balancer spreads the
 * traffic evenly (Tyk's distributed rate limiter does the same). The headers
 * still speak for the DC: `RateLimit-Limit` is the policy's rate, and
 * `RateLimit-Remaining` this gateway's whole tokens times N.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly applying: Bucket[] = [];
  private readonly applyingLimits: Limit[] = [];
  private gateways = 1;

  constructor(private readonly now: () => number = Date.now) {}

  /** How many gateways share the policies' rates, this one included; buckets take their new size on their next request. */
  setGateways(gateways: number): void {
    this.gateways = Math.max(1, Math.floor(gateways));
  }

  get sharedBy(): number {
    return this.gateways;
  }

  take(limits: readonly Limit[]): RateDecision {
    // On every request: no intermediate arrays, the buckets that apply go into one kept for the purpose.
    const buckets = this.applying;
    const now = this.now();
    let count = 0;
    let empty = -1;
    for (const limit of limits) {
      if (limit.policy.unlimited) continue;
      const bucket = this.refilled(limit, now);
      if (empty === -1 && bucket.tokens < 1 - EPSILON) empty = count;
      this.applyingLimits[count] = limit;
      buckets[count++] = bucket;
    }
    if (count === 0) return UNLIMITED;
    if (empty === -1) for (let i = 0; i < count; i++) buckets[i].tokens -= 1;

    let tightest = 0;
    for (let i = 1; i < count; i++) if (buckets[i].tokens < buckets[tightest].tokens) tightest = i;
    const reported = empty === -1 ? tightest : empty;
    const bucket = buckets[reported];
    const limit = this.applyingLimits[reported].policy.requestsPerMinute;
    const refusedBy = empty === -1 ? undefined : this.applyingLimits[empty].key;
    buckets.length = this.applyingLimits.length = 0;
    // The bucket also holds the burst, which RateLimit-Limit (the per-minute rate) does not count.
    const remaining = Math.min(limit, Math.max(0, Math.floor(bucket.tokens + EPSILON)) * this.gateways);
    const decision: RateDecision = {
      allowed: empty === -1,
      limit,
      remaining,
      resetSeconds: wholeSeconds((bucket.capacity - bucket.tokens) / bucket.perMs),
      retryAfterSeconds: empty === -1 ? 0 : Math.max(1, wholeSeconds((1 - bucket.tokens) / bucket.perMs)),
    };
    if (refusedBy !== undefined) decision.refusedBy = refusedBy;
    return decision;
  }

  /** Drops buckets that are full again (an idle client costs nothing); returns how many. */
  prune(): number {
    const now = this.now();
    let pruned = 0;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * bucket.perMs < bucket.capacity) continue;
      this.buckets.delete(key);
      pruned++;
    }
    return pruned;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled({ key, policy }: Limit, now: number): Bucket {
    // At least one whole token, or a policy slower than one request a minute per gateway would admit nothing at all.
    const capacity = Math.max(1, (policy.requestsPerMinute + policy.burst) / this.gateways);
    const perMs = policy.requestsPerMinute / this.gateways / 60_000;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: capacity, updatedAt: now, capacity, perMs };
      this.buckets.set(key, bucket);
      return bucket;
    }
    bucket.capacity = capacity;
    bucket.perMs = perMs;
    bucket.tokens = Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    return bucket;
  }
}
