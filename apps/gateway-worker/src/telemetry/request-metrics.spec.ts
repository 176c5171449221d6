import { RequestMetrics } from './gateway-metrics';

describe('RequestMetrics', () => {
  it('counts requests by API and status, and renders latency as cumulative buckets (le is inclusive) ending in +Inf', async () => {
    const metrics = new RequestMetrics();
    metrics.observe('a', 200, 0.0005);
    metrics.observe('a', 200, 0.003);
    metrics.observe('a', 502, 20);
    metrics.observe('none', 404, 0.0001);

    const counted = await metrics.counter().get();
    expect(counted.type).toBe('counter');
    expect(counted.values).toEqual([
      { labels: { api: 'a', status: '200' }, value: 2 },
      { labels: { api: 'a', status: '502' }, value: 1 },
      { labels: { api: 'none', status: '404' }, value: 1 },
    ]);

    const histogram = await metrics.histogram().get();
    const a = (metricName: string, le?: string) =>
      histogram.values.find((v) => v.metricName === metricName && v.labels.api === 'a' && v.labels.le === le)?.value;
    expect(a('apim_gateway_request_duration_seconds_bucket', '0.0005')).toBe(1);
    expect(a('apim_gateway_request_duration_seconds_bucket', '0.0025')).toBe(1);
    expect(a('apim_gateway_request_duration_seconds_bucket', '0.005')).toBe(2);
    expect(a('apim_gateway_request_duration_seconds_bucket', '10')).toBe(2);
    expect(a('apim_gateway_request_duration_seconds_bucket', '+Inf')).toBe(3);
    expect(a('apim_gateway_request_duration_seconds_count')).toBe(3);
    expect(a('apim_gateway_request_duration_seconds_sum')).toBeCloseTo(20.0035);
  });
});
