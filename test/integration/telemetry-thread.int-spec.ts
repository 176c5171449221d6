import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { decodeUsageRecord, ensureTopics, JsonLogger, TOPICS, UsageRecord } from '@apim/events';
import { TelemetryThread } from '../../apps/gateway-worker/src/telemetry/telemetry-thread';
import { UsageFields } from '../../apps/gateway-worker/src/telemetry/usage-batch';
import { repoRoot } from '../../tools/infra/repo-root';
import { readAllRecords } from '../support/events';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';
import { testBrokers } from '../support/test-env';
import { eventually } from '../support/gateway';

const WORKER = join(repoRoot(), 'dist', 'apps', 'gateway-worker', 'src', 'telemetry', 'telemetry-worker.js');
const quiet = new JsonLogger({ service: 'test' }, 'error', () => undefined);

const fields = (i: number): UsageFields => ({
  apiId: `api-${i % 3}`,
  applicationId: i % 4 === 0 ? null : `app-${i % 5}`,
  method: i % 2 ? 'GET' : 'POST',
  status: 200 + (i % 7),
  latencyMs: i / 8,
  requestBytes: i,
  responseBytes: 2 * i,
  startedAt: Date.UTC(2026, 11, 3) + i,
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

  it('turns packed usage fields into usage records in apim.analytics, and sends other records as given, all of them by stop()', async () => {
    const gatewayId = `gw-${randomUUID()}`;
    const topic = uniqueTopic('telemetry-thread');
    await createTopics(kafka, [{ topic }]);
    const telemetry = thread(testBrokers('dc1'), gatewayId);
    telemetry.start();
    // More than one batch of 1,024, and a part-filled one handed over by stop().
    for (let i = 0; i < 2500; i++) telemetry.usage(fields(i));
    telemetry.enqueue(topic, {
      key: 'gateway:x',
      value: Buffer.from('{"beat":1}'),
      headers: { originDc: 'dc1', kind: Buffer.from('beat') },
    });
    await telemetry.stop();
    expect(telemetry.sent).toBe(2501);
    expect(telemetry.dropped).toBe(0);
    expect(telemetry.buffered).toBe(0);

    const mine = (await readAllRecords(kafka, TOPICS.analytics)).flat().filter((r) => r.headers.gatewayId === gatewayId);
    const records = mine.map((r) => {
      const decoded = decodeUsageRecord(Buffer.from(r.value!));
      if (!decoded.ok) throw new Error(decoded.reason);
      expect(r.key).toBe(decoded.record.apiId);
      expect(r.headers.originDc).toBe('dc1');
      return decoded.record;
    });
    expect(records).toHaveLength(2500);
    expect(new Set(records.map((r) => r.recordId)).size).toBe(2500);
    const byBytes = new Map<number, UsageRecord>(records.map((r) => [r.requestBytes!, r]));
    for (const i of [0, 1, 1023, 1024, 2499]) {
      const f = fields(i);
      expect(byBytes.get(i)).toEqual({
        recordId: expect.any(String),
        gatewayId,
        dc: 'dc1',
        apiId: f.apiId,
        applicationId: f.applicationId,
        method: f.method,
        status: f.status,
        latencyMs: f.latencyMs,
        requestBytes: i,
        responseBytes: 2 * i,
        at: new Date(f.startedAt).toISOString(),
      });
    }
    const [beat] = (await readAllRecords(kafka, topic)).flat();
    expect(beat).toMatchObject({ key: 'gateway:x', value: '{"beat":1}', headers: { originDc: 'dc1', kind: 'beat' } });
  });

  it('counts what it cannot send while Kafka is unreachable, keeping a bounded number', async () => {
    const telemetry = thread(['127.0.0.1:1'], `gw-${randomUUID()}`);
    telemetry.start();
    for (let i = 0; i < 60_000; i++) telemetry.usage(fields(i));
    // The thread keeps the newest 50,000 (and up to a tenth more before it drops in bulk).
    await eventually(async () => expect(telemetry.dropped).toBeGreaterThan(0), 20_000);
    expect(telemetry.sent).toBe(0);
    expect(telemetry.dropped + telemetry.buffered).toBe(60_000);
    await telemetry.stop(100);
  });

  it('replaces a thread that ended, counting what it held as dropped, and goes on sending', async () => {
    const gatewayId = `gw-${randomUUID()}`;
    const telemetry = thread(testBrokers('dc1'), gatewayId);
    telemetry.start();
    for (let i = 0; i < 10; i++) telemetry.usage(fields(i));
    await eventually(async () => expect(telemetry.sent).toBe(10), 20_000);
    await (telemetry as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    for (let i = 10; i < 15; i++) telemetry.usage(fields(i));
    // Written while no thread runs: handed over to nobody, counted.
    await eventually(async () => expect(telemetry.dropped).toBe(5), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (let i = 15; i < 20; i++) telemetry.usage(fields(i));
    await telemetry.stop();
    expect(telemetry.sent).toBe(15);
    expect(telemetry.restarts).toBe(1);
    const mine = (await readAllRecords(kafka, TOPICS.analytics)).flat().filter((r) => r.headers.gatewayId === gatewayId);
    expect(mine.map((r) => (JSON.parse(r.value!) as UsageRecord).requestBytes).sort((a, b) => a! - b!)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 19,
    ]);
  });
});
