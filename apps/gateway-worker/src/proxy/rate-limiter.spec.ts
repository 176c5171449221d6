import { RateLimiter } from './rate-limiter';

const policy = (requestsPerMinute: number, burst = 0, unlimited = false) => ({ name: 'p', requestsPerMinute, burst, unlimited });

describe('the rate limiter', () => {
  it('allows requestsPerMinute + burst at once, then refuses with the time until one more fits', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    const limits = [{ key: 'sub', policy: policy(60, 2) }];
    for (let i = 0; i < 62; i++) expect(limiter.take(limits).allowed).toBe(true);
    const refused = limiter.take(limits);
    expect(refused).toMatchObject({ allowed: false, limit: 60, remaining: 0, retryAfterSeconds: 1, refusedBy: 'sub' });
    now += 1000;
    expect(limiter.take(limits).allowed).toBe(true);
    expect(limiter.take(limits).allowed).toBe(false);
  });

  it('takes from every bucket or from none, and reports the tightest', () => {
    const limiter = new RateLimiter(() => 0);
    const wide = { key: 'app', policy: policy(100) };
    const narrow = { key: 'sub', policy: policy(1) };
    expect(limiter.take([wide, narrow])).toMatchObject({ allowed: true, limit: 1, remaining: 0 });
    expect(limiter.take([wide, narrow])).toMatchObject({ allowed: false, refusedBy: 'sub' });
    // The refused request took nothing from the wide bucket.
    expect(limiter.take([wide])).toMatchObject({ allowed: true, remaining: 98 });
  });

  it('holds and refills 1/N of each policy when N gateways share it, and reports for the DC as a whole', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    limiter.setGateways(3);
    const limits = [{ key: 'sub', policy: policy(60, 3) }];
    // 21 tokens here: (60 + 3) / 3.
    const first = limiter.take(limits);
    expect(first).toMatchObject({ allowed: true, limit: 60, remaining: 60 });
    for (let i = 1; i < 21; i++) expect(limiter.take(limits).allowed).toBe(true);
    expect(limiter.take(limits)).toMatchObject({ allowed: false, limit: 60, remaining: 0, retryAfterSeconds: 3 });
    // A third of a token per second: one more after 3 s.
    now += 3000;
    expect(limiter.take(limits)).toMatchObject({ allowed: true, remaining: 0 });
    // One gateway again: the bucket takes its full size and rate from its next request on (a minute refills 60).
    limiter.setGateways(1);
    now += 60_000;
    expect(limiter.take(limits)).toMatchObject({ allowed: true, remaining: 59 });
    expect(limiter.sharedBy).toBe(1);
  });

  it('keeps at least one token when a policy is slower than one request a minute per gateway', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    limiter.setGateways(3);
    const limits = [{ key: 'sub', policy: policy(1) }];
    expect(limiter.take(limits).allowed).toBe(true);
    expect(limiter.take(limits)).toMatchObject({ allowed: false, retryAfterSeconds: 180 });
    now += 180_000;
    expect(limiter.take(limits).allowed).toBe(true);
  });

  it('ignores unlimited policies and prunes buckets that are full again', () => {
    let now = 0;
    const limiter = new RateLimiter(() => now);
    expect(limiter.take([{ key: 'u', policy: policy(1, 0, true) }])).toMatchObject({ allowed: true, limit: 0 });
    limiter.take([{ key: 'b', policy: policy(60) }]);
    expect(limiter.size).toBe(1);
    expect(limiter.prune()).toBe(0);
    now += 1000;
    expect(limiter.prune()).toBe(1);
  });
});
