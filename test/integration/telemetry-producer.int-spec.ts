import { Kafka } from 'kafkajs';
import { JsonLogger, TelemetryProducer } from '@apim/events';
import { readAllRecords } from '../support/events';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';
import { testBrokers } from '../support/test-env';

const quiet = new JsonLogger({ service: 'test' }, 'error', () => undefined);
const record = (i: number) => ({ key: `api-${i % 7}`, value: JSON.stringify({ i }) });

describe('telemetry producer', () => {
  let kafka: Kafka;

  beforeAll(() => {
    kafka = testKafka(testBrokers('dc1'), 'telemetry-test');
  });

  it('sends everything buffered, several requests in one flush, each key on the partition of its murmur2 hash', async () => {
    const topic = uniqueTopic('telemetry');
    await createTopics(kafka, [{ topic, numPartitions: 3 }]);
    const telemetry = new TelemetryProducer(kafka, quiet, { flushIntervalMs: 60_000, maxBuffered: 50_000 });
    for (let i = 0; i < 12_345; i++) telemetry.enqueue(topic, record(i));
    await telemetry.flush();
    expect(telemetry.buffered).toBe(0);
    expect(telemetry.sent).toBe(12_345);
    await telemetry.stop();

    const partitions = await readAllRecords(kafka, topic);
    const values = partitions.flat().map((r) => (JSON.parse(r.value!) as { i: number }).i);
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 12_345 }, (_, i) => i));
    // One key, one partition, in the order enqueued.
    for (const records of partitions) {
      const keys = new Set(records.map((r) => r.key));
      for (const key of keys) {
        const of = records.filter((r) => r.key === key).map((r) => (JSON.parse(r.value!) as { i: number }).i);
        expect(of).toEqual([...of].sort((a, b) => a - b));
        expect(partitions.filter((p) => p.some((r) => r.key === key))).toHaveLength(1);
      }
    }
    expect(partitions.filter((p) => p.length > 0).length).toBeGreaterThan(1);
  });

  it('holds about maxBuffered records at most when Kafka cannot be reached, and counts what it dropped', async () => {
    // Nothing listens on port 1: every send fails at once.
    const unreachable = new Kafka({
      clientId: 'telemetry-down',
      brokers: ['127.0.0.1:1'],
      retry: { retries: 0 },
      logCreator: () => () => undefined,
    });
    const telemetry = new TelemetryProducer(unreachable, quiet, { flushIntervalMs: 60_000, maxBuffered: 1000 });
    for (let i = 0; i < 5000; i++) telemetry.enqueue('telemetry.down', record(i));
    await telemetry.flush();
    expect(telemetry.sent).toBe(0);
    expect(telemetry.buffered).toBeGreaterThanOrEqual(1000);
    expect(telemetry.buffered).toBeLessThanOrEqual(1100);
    expect(telemetry.dropped + telemetry.buffered).toBe(5000);
    await telemetry.stop(100);
  });
});
