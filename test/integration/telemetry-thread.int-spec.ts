import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { decodeUsage, ensureTopics, JsonLogger, TOPICS, UsageSummary } from '@apim/events';
import { TelemetryThread } from '../../apps/gateway-worker/src/telemetry/telemetry-thread';
import { UsageFields } from '../../apps/gateway-worker/src/telemetry/usage-summaries';
import { repoRoot } from '../../tools/infra/repo-root';
import { readAllRecords } from '../support/events';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';
import { testBrokers } from '../support/test-env';
import { eventually } from '../support/gateway';

const WORKER = join(repoRoot(), 'dist', 'apps', 'gateway-worker', 'src', 'telemetry', 'telemetry-worker.js');
const quiet = new JsonLogger({ service: 'test' }, 'error', () => undefined);
const MINUTE = Date.UTC(2026, 11, 3, 10, 0);
const STATUSES = [200, 201, 404, 429, 500];

const fields = (i: number): UsageFields => ({
  apiId: `api-${i % 3}`,
  applicationId: i % 4 === 0 ? null : `app-${i % 5}`,
  status: STATUSES[i % STATUSES.length],
  latencyMs: i / 8,
  requestBytes: i,
  responseBytes: 2 * i,
  // Two minutes' worth: a key's counts split at the minute.
  startedAt: MINUTE + i * 50,
});

/** A record like a heartbeat, sent as given. */
const beat = (i: number) => ({
  key: 'gateway:x',
  value: Buffer.from(`{"beat":${i}}`),
  headers: { originDc: 'dc1', kind: Buffer.from('beat') },
});

function thread(brokers: string[], gatewayId: string): TelemetryThread {
  return new TelemetryThread(
    { brokers, clientId: `test-${gatewayId}`, gatewayId, dc: 'dc1', logLevel: 'error', security: {} },
    quiet,
    WORKER,
  );
}

describe('the gateway telemetry thread', () => {
  let kafka: Kafka;

  beforeAll(async () => {
    kafka = testKafka(testBrokers('dc1'), 'telemetry-thread-test');
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [TOPICS.analytics]).finally(() => admin.disconnect());
  });

  it('sums usage into one summary per API, application and minute in apim.analytics, and sends other records as given, all by stop()', async () => {
    const gatewayId = `gw-${randomUUID()}`;
    const topic = uniqueTopic('telemetry-thread');
    await createTopics(kafka, [{ topic }]);
    const telemetry = thread(testBrokers('dc1'), gatewayId);
    telemetry.start();
    for (let i = 0; i < 2500; i++) telemetry.usage(fields(i));
    telemetry.enqueue(topic, beat(1));
    await telemetry.stop();
    expect(telemetry.dropped).toBe(0);
    expect(telemetry.buffered).toBe(0);

    const mine = (await readAllRecords(kafka, TOPICS.analytics)).flat().filter((r) => r.headers.gatewayId === gatewayId);
    const summaries = mine.map((r) => {
      const decoded = decodeUsage(Buffer.from(r.value!));
      if (!decoded.ok || !('kind' in decoded.usage)) throw new Error(decoded.ok ? 'a usage record, not a summary' : decoded.reason);
      expect(r.key).toBe(decoded.usage.apiId);
      expect(r.headers.originDc).toBe('dc1');
      return decoded.usage;
    });
    expect(telemetry.sent).toBe(summaries.length + 1);
    expect(new Set(summaries.map((s) => s.recordId)).size).toBe(summaries.length);
    // What they add up to, per API, application and minute, is what was asked of the thread.
    type Counts = Pick<
      UsageSummary,
      'requests' | 'errors' | 'clientErrors' | 'latencyMsSum' | 'latencyMsMax' | 'requestBytes' | 'responseBytes'
    >;
    const addTo = (sums: Map<string, Counts>, key: string, c: Counts) => {
      const sum = sums.get(key) ?? {
        requests: 0,
        errors: 0,
        clientErrors: 0,
        latencyMsSum: 0,
        latencyMsMax: 0,
        requestBytes: 0,
        responseBytes: 0,
      };
      for (const field of ['requests', 'errors', 'clientErrors', 'latencyMsSum', 'requestBytes', 'responseBytes'] as const)
        sum[field] += c[field];
      sum.latencyMsMax = Math.max(sum.latencyMsMax, c.latencyMsMax);
      sums.set(key, sum);
    };
    const keyOf = (apiId: string, applicationId: string | null, minute: string) => `${apiId} ${applicationId} ${minute}`;
    const expected = new Map<string, Counts>();
    for (let i = 0; i < 2500; i++) {
      const f = fields(i);
      addTo(expected, keyOf(f.apiId, f.applicationId, new Date(f.startedAt - (f.startedAt % 60_000)).toISOString()), {
        requests: 1,
        errors: f.status >= 500 ? 1 : 0,
        clientErrors: f.status >= 400 && f.status < 500 ? 1 : 0,
        latencyMsSum: f.latencyMs,
        latencyMsMax: f.latencyMs,
        requestBytes: f.requestBytes,
        responseBytes: f.responseBytes,
      });
    }
    const got = new Map<string, Counts>();
    for (const s of summaries) addTo(got, keyOf(s.apiId, s.applicationId, s.minute), s);
    expect(new Set(got.keys())).toEqual(new Set(expected.keys()));
    for (const [key, sum] of expected)
      expect({ key, ...got.get(key)!, latencyMsSum: Math.round(got.get(key)!.latencyMsSum) }).toEqual({
        key,
        ...sum,
        latencyMsSum: Math.round(sum.latencyMsSum),
      });
    const [sent] = (await readAllRecords(kafka, topic)).flat();
    expect(sent).toMatchObject({ key: 'gateway:x', value: '{"beat":1}', headers: { originDc: 'dc1', kind: 'beat' } });
  });

  it('counts what it cannot send while Kafka is unreachable, keeping a bounded number', async () => {
    const telemetry = thread(['127.0.0.1:1'], `gw-${randomUUID()}`);
    telemetry.start();
    for (let i = 0; i < 60_000; i++) telemetry.enqueue(TOPICS.heartbeats, beat(i));
    // The thread keeps the newest 50,000 (and up to a tenth more before it drops in bulk).
    await eventually(async () => expect(telemetry.dropped).toBeGreaterThan(0), 20_000);
    expect(telemetry.sent).toBe(0);
    await eventually(async () => expect(telemetry.dropped + telemetry.buffered).toBe(60_000), 5_000);
    await telemetry.stop(100);
  });

  it('replaces a thread that ended, counting what it held as dropped, and goes on sending', async () => {
    const topic = uniqueTopic('telemetry-respawn');
    await createTopics(kafka, [{ topic }]);
    const telemetry = thread(testBrokers('dc1'), `gw-${randomUUID()}`);
    telemetry.start();
    for (let i = 0; i < 10; i++) telemetry.enqueue(topic, beat(i));
    await eventually(async () => expect(telemetry.sent).toBe(10), 20_000);
    await (telemetry as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    // Enqueued while no thread runs: sent to nobody, counted.
    await eventually(async () => expect((telemetry as unknown as { worker?: unknown }).worker).toBeUndefined(), 5_000);
    for (let i = 10; i < 15; i++) telemetry.enqueue(topic, beat(i));
    expect(telemetry.dropped).toBe(5);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (let i = 15; i < 20; i++) telemetry.enqueue(topic, beat(i));
    await telemetry.stop();
    expect(telemetry.sent).toBe(15);
    expect(telemetry.restarts).toBe(1);
    const sent = (await readAllRecords(kafka, topic)).flat().map((r) => (JSON.parse(r.value!) as { beat: number }).beat);
    expect(sent.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19]);
  });
});
