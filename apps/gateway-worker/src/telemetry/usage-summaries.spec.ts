import { UsageFields, UsageSummaries } from './usage-summaries';

const MINUTE = Date.UTC(2026, 11, 3, 10, 0);
const request = (overrides: Partial<UsageFields> = {}): UsageFields => ({
  apiId: 'api-1',
  applicationId: 'app-1',
  status: 200,
  latencyMs: 2,
  requestBytes: 10,
  responseBytes: 100,
  startedAt: MINUTE + 1000,
  ...overrides,
});

describe('usage summaries', () => {
  const origin = { gatewayId: 'gw-1', dc: 'dc1' };

  it('sums the requests of an API and application in a minute into one summary', () => {
    const summaries = new UsageSummaries(origin);
    summaries.add(request());
    summaries.add(request({ status: 503, latencyMs: 7, requestBytes: 0 }));
    summaries.add(request({ status: 429, latencyMs: 1 }));
    expect(summaries.size).toBe(1);
    const [summary, ...more] = summaries.take();
    expect(more).toEqual([]);
    expect(summary).toEqual({
      kind: 'summary',
      recordId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      gatewayId: 'gw-1',
      dc: 'dc1',
      apiId: 'api-1',
      applicationId: 'app-1',
      minute: new Date(MINUTE).toISOString(),
      requests: 3,
      errors: 1,
      clientErrors: 1,
      latencyMsSum: 10,
      latencyMsMax: 7,
      requestBytes: 20,
      responseBytes: 300,
    });
    expect(summaries.size).toBe(0);
    expect(summaries.take()).toEqual([]);
  });

  it('keeps APIs, applications (and none) and minutes apart, and starts again after each take', () => {
    const summaries = new UsageSummaries(origin);
    summaries.add(request());
    summaries.add(request({ applicationId: null }));
    summaries.add(request({ apiId: 'api-2' }));
    summaries.add(request({ startedAt: MINUTE + 61_000 }));
    expect(summaries.size).toBe(4);
    const taken = summaries.take();
    expect(taken.map((s) => [s.apiId, s.applicationId, s.minute, s.requests]).sort()).toEqual(
      [
        ['api-1', 'app-1', new Date(MINUTE).toISOString(), 1],
        ['api-1', 'app-1', new Date(MINUTE + 60_000).toISOString(), 1],
        ['api-1', null, new Date(MINUTE).toISOString(), 1],
        ['api-2', 'app-1', new Date(MINUTE).toISOString(), 1],
      ].sort(),
    );
    expect(new Set(taken.map((s) => s.recordId)).size).toBe(4);
    summaries.add(request());
    expect(summaries.take()).toMatchObject([{ apiId: 'api-1', requests: 1 }]);
  });

  it('keeps a latency within what readers accept', () => {
    const summaries = new UsageSummaries(origin);
    summaries.add(request({ latencyMs: 1e12 }));
    summaries.add(request({ latencyMs: -1 }));
    expect(summaries.take()[0]).toMatchObject({ latencyMsSum: 86_400_000, latencyMsMax: 86_400_000 });
  });
});
