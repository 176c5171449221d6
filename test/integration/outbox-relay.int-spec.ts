import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { JsonLogger } from '@apim/events';
import { PostgresEventStore } from '../../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { OutboxRelay } from '../../apps/control-plane/src/infrastructure/outbox/outbox-relay';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { TestDatabase } from '../support/databases';
import { CONTEXT, expectPerStreamOrder, policyCreated, readTopicUntil, uniqueStream } from '../support/events';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';
import { testBrokers } from '../support/test-env';

const quiet = new JsonLogger({ test: 'relay' }, 'error');

function relayFor(db: DataSource, kafka: Kafka, topic: string, dc = 'dc1'): { relay: OutboxRelay; producer: Producer } {
  // Not connected here: the relay connects its producer itself, as in the app.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  return { relay: new OutboxRelay({ db, producer, dc, logger: quiet, topic, batchSize: 100, idleMs: 20 }), producer };
}

describe('the outbox relay', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;

  beforeEach(async () => {
    db = await TestDatabase.create('relay');
    dataSource = await db.migrated();
    store = new PostgresEventStore(dataSource);
  });
  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('publishes both of two concurrent appends when the lower position commits last, in per-stream order', async () => {
    const kafka = testKafka(testBrokers('dc1'));
    const topic = uniqueTopic('relay.concurrent');
    await createTopics(kafka, [{ topic, numPartitions: 3 }]);
    const { relay, producer } = relayFor(dataSource, kafka, topic);

    const streamA = uniqueStream();
    const streamB = uniqueStream();
    await store.append(streamA, 'policy', 0, [policyCreated(1)], CONTEXT);
    expect(await relay.runOnce()).toBe(1);

    const early = dataSource.createQueryRunner();
    const late = dataSource.createQueryRunner();
    await early.connect();
    await late.connect();
    await early.startTransaction();
    const [low] = await store.append(streamA, 'policy', 1, [policyCreated(2)], CONTEXT, early);
    await late.startTransaction();
    const [high] = await store.append(streamB, 'policy', 0, [policyCreated(3)], CONTEXT, late);
    await late.commitTransaction();
    expect(await relay.runOnce()).toBe(0); // the higher position waits for the lower one
    await early.commitTransaction();
    await early.release();
    await late.release();
    expect(await relay.runOnce()).toBe(2);
    await producer.disconnect();

    const events = await readTopicUntil(kafka, topic, (read) => read.length >= 3);
    expect(events.map((e) => e.eventId).sort()).toEqual([low.eventId, high.eventId, (await store.readStream(streamA))[0].eventId].sort());
    expectPerStreamOrder(
      events,
      new Map([
        [streamA, 2],
        [streamB, 1],
      ]),
    );
  });

  it('publishes every event of many concurrent writers, none skipped and each stream in order', async () => {
    const kafka = testKafka(testBrokers('dc1'));
    const topic = uniqueTopic('relay.writers');
    await createTopics(kafka, [{ topic, numPartitions: 3 }]);
    const { relay, producer } = relayFor(dataSource, kafka, topic);
    relay.start();

    const streams = Array.from({ length: 8 }, () => uniqueStream());
    const perWriter = 40;
    await Promise.all(
      streams.map(async (stream) => {
        for (let version = 0; version < perWriter; version++) {
          const runner = dataSource.createQueryRunner();
          await runner.connect();
          await runner.startTransaction();
          await store.append(stream, 'policy', version, [policyCreated(version)], CONTEXT, runner);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5)); // commit late, in random order
          await runner.commitTransaction();
          await runner.release();
        }
      }),
    );
    const events = await readTopicUntil(kafka, topic, (read) => new Set(read.map((e) => e.eventId)).size >= streams.length * perWriter);
    await relay.stop();
    await producer.disconnect();
    expectPerStreamOrder(events, new Map(streams.map((s) => [s, perWriter])));
  });

  it('publishes each event once with two control planes on one database: one relays at a time', async () => {
    const kafka = testKafka(testBrokers('dc1'));
    const topic = uniqueTopic('relay.two');
    await createTopics(kafka, [{ topic, numPartitions: 2 }]);
    const one = relayFor(dataSource, kafka, topic);
    const two = relayFor(dataSource, kafka, topic);
    one.relay.start();
    two.relay.start();
    const streams = Array.from({ length: 4 }, () => uniqueStream());
    for (let version = 0; version < 25; version++)
      await Promise.all(streams.map((stream) => store.append(stream, 'policy', version, [policyCreated(version)], CONTEXT)));
    const events = await readTopicUntil(kafka, topic, (read) => read.length >= 100);
    await new Promise((resolve) => setTimeout(resolve, 500)); // a second relay's copies would be there by now
    await Promise.all([one.relay.stop(), two.relay.stop()]);
    await Promise.all([one.producer.disconnect(), two.producer.disconnect()]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(100);
    expect(one.relay.published + two.relay.published).toBe(100);
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    expect(ends.reduce((sum, p) => sum + Number(p.high), 0)).toBe(100);
  });

  it('reports Kafka up once connected, with nothing to publish and without the relay lock', async () => {
    const kafka = testKafka(testBrokers('dc1'));
    const topic = uniqueTopic('relay.idle');
    await createTopics(kafka, [{ topic }]);
    const one = relayFor(dataSource, kafka, topic);
    const two = relayFor(dataSource, kafka, topic);
    expect(one.relay.kafkaUp).toBe(false);
    // Nothing to publish, and at most one of them wins the lock: both must still know Kafka is there.
    const [published] = await Promise.all([one.relay.runOnce(), two.relay.runOnce()]);
    expect(published).toBe(0);
    expect([one.relay.kafkaUp, two.relay.kafkaUp]).toEqual([true, true]);
    await Promise.all([one.producer.disconnect(), two.producer.disconnect()]);
  });

  it('does not publish events imported from another DC', async () => {
    const kafka = testKafka(testBrokers('dc1'));
    const topic = uniqueTopic('relay.own');
    await createTopics(kafka, [{ topic }]);
    const { relay, producer } = relayFor(dataSource, kafka, topic);
    await store.append(uniqueStream(), 'policy', 0, [policyCreated()], { ...CONTEXT, originDc: 'dc2' });
    const [own] = await store.append(uniqueStream(), 'policy', 0, [policyCreated()], CONTEXT);
    expect(await relay.runOnce()).toBe(1);
    await producer.disconnect();
    const events = await readTopicUntil(kafka, topic, (read) => read.length >= 1);
    expect(events.map((e) => e.eventId)).toEqual([own.eventId]);
  });

  describe('with Kafka stopped for a while', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'apim-relay-kafka-'));
    const cluster = new KafkaCluster({ name: 'relay-outage', dataDir, heap: '384m' });
    afterAll(async () => {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('keeps accepting appends, and the relay catches up when Kafka is back', async () => {
      await cluster.start();
      const kafka = testKafka([cluster.brokers]);
      const topic = 'relay.outage';
      await createTopics(kafka, [{ topic, numPartitions: 2 }]);
      const { relay, producer } = relayFor(dataSource, kafka, topic);
      relay.start();
      const streams = [uniqueStream(), uniqueStream(), uniqueStream()];
      for (let v = 0; v < 20; v++) for (const s of streams) await store.append(s, 'policy', v, [policyCreated(v)], CONTEXT);
      await readTopicUntil(kafka, topic, (read) => read.length >= 60);

      await cluster.stop();
      for (let v = 20; v < 40; v++) for (const s of streams) await store.append(s, 'policy', v, [policyCreated(v)], CONTEXT);
      expect(await store.streamVersion(streams[0])).toBe(40);
      const publishedBeforeRestart = relay.published;

      await cluster.start();
      const events = await readTopicUntil(kafka, topic, (read) => new Set(read.map((e) => e.eventId)).size >= 120, 90_000);
      expect(relay.published).toBeGreaterThan(publishedBeforeRestart);
      await relay.stop();
      await producer.disconnect();
      expectPerStreamOrder(events, new Map(streams.map((s) => [s, 40])));
    });
  });
});
