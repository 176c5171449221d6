import { DataSource } from 'typeorm';
import { encodeEvent, EventEnvelope, JsonLogger, newEventId, TOPICS } from '@apim/events';
import { PostgresEventStore } from '../../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { EventImporter } from '../../apps/control-plane/src/infrastructure/importer/event-importer';
import { TestDatabase } from '../support/databases';
import { uniqueStream } from '../support/events';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';
import { testBrokers } from '../support/test-env';

const quiet = new JsonLogger({ test: 'importer' }, 'error');

function dc2Event(streamId: string, version: number, i = version): EventEnvelope {
  return {
    eventId: newEventId(),
    type: 'policy.created',
    schemaVersion: 1,
    streamId,
    streamType: 'policy',
    version,
    originDc: 'dc2',
    epoch: 1,
    occurredAt: new Date().toISOString(),
    correlationId: 'import-test',
    causationId: null,
    actor: 'system',
    payload: { name: `P${i}`, requestsPerMinute: 10 + i, burst: 1, unlimited: false },
  };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the importer', () => {
  const kafka = testKafka(testBrokers('dc1'));
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: PostgresEventStore;

  beforeEach(async () => {
    db = await TestDatabase.create('importer');
    dataSource = await db.migrated();
    store = new PostgresEventStore(dataSource);
  });
  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  async function run(topics: string[], groupId = uniqueTopic('importer')): Promise<{ importer: EventImporter; stop: () => Promise<void> }> {
    const producer = kafka.producer();
    await producer.connect();
    const importer = new EventImporter({ db: dataSource, kafka, producer, dc: 'dc1', topics, logger: quiet, groupId });
    await importer.start();
    return {
      importer,
      stop: async () => {
        await importer.stop();
        await producer.disconnect();
      },
    };
  }

  async function publish(topic: string, events: EventEnvelope[]): Promise<void> {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: events.map(encodeEvent) });
    await producer.disconnect();
  }

  it('appends every event of a mirrored topic with its original id, version and origin; a replay changes nothing', async () => {
    const topic = uniqueTopic('dc2.apim.events');
    await createTopics(kafka, [{ topic, numPartitions: 3 }]);
    const streams = [uniqueStream(), uniqueStream(), uniqueStream()];
    const events = streams.flatMap((s) => [1, 2, 3, 4].map((v) => dc2Event(s, v)));
    await publish(topic, events);

    const first = await run([topic]);
    await eventually(async () => first.importer.imported === events.length);
    await first.stop();
    for (const stream of streams) {
      const stored = await store.readStream(stream);
      expect(stored.map((e) => [e.eventId, e.version, e.originDc, e.epoch])).toEqual(
        events.filter((e) => e.streamId === stream).map((e) => [e.eventId, e.version, 'dc2', 1]),
      );
    }
    const [{ count: before }] = await dataSource.query(`SELECT count(*)::int AS count FROM events`);

    const replay = await run([topic]); // a new group reads the topic again from the start
    await eventually(async () => replay.importer.duplicates === events.length);
    await replay.stop();
    const [{ count: after }] = await dataSource.query(`SELECT count(*)::int AS count FROM events`);
    expect(after).toBe(before);
    expect(replay.importer.imported).toBe(0);
  });

  it('holds an event whose predecessor travels on another topic until it arrives', async () => {
    const [fromDc2, fromDc3] = [uniqueTopic('dc2.apim.events'), uniqueTopic('dc3.apim.events')];
    await createTopics(kafka, [{ topic: fromDc2 }, { topic: fromDc3 }]);
    const stream = uniqueStream();
    const v1 = dc2Event(stream, 1);
    const v2 = { ...dc2Event(stream, 2), originDc: 'dc3' };
    await publish(fromDc3, [v2]);
    const running = await run([fromDc2, fromDc3]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await store.streamVersion(stream)).toBe(0);
    expect(running.importer.held).toBe(1);

    await publish(fromDc2, [v1]);
    await eventually(async () => (await store.streamVersion(stream)) === 2);
    await running.stop();
    expect((await store.readStream(stream)).map((e) => e.eventId)).toEqual([v1.eventId, v2.eventId]);
  });

  it("imports a replicator transaction's records before it commits; the copies a retried transaction writes again are duplicates", async () => {
    const topic = uniqueTopic('dc2.apim.events');
    await createTopics(kafka, [{ topic }]);
    const stream = uniqueStream();
    const events = [1, 2, 3, 4].map((v) => dc2Event(stream, v));
    const running = await run([topic]);
    const producer = kafka.producer({ transactionalId: uniqueTopic('replicator-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      // A session that wrote three events and failed before its commit...
      const failed = await producer.transaction();
      await failed.send({ topic, messages: events.slice(0, 3).map(encodeEvent) });
      await eventually(async () => (await store.streamVersion(stream)) === 3);
      await failed.abort();
      // ...and the next session, which writes them again from the checkpoint, with the fourth.
      const retried = await producer.transaction();
      await retried.send({ topic, messages: events.map(encodeEvent) });
      // Visible before this commit too; the commit only ends the test's transaction.
      await eventually(async () => (await store.streamVersion(stream)) === 4 && running.importer.duplicates === 3);
      await retried.commit();
    } finally {
      await producer.disconnect();
      await running.stop();
    }
    expect((await store.readStream(stream)).map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(running.importer.imported).toBe(4);
    expect(running.importer.deadLettered).toBe(0);
  });

  it("reports its lag per mirror partition, and none once it has read a committed transaction's records and marker", async () => {
    const topic = uniqueTopic('dc2.apim.events');
    await createTopics(kafka, [{ topic }]);
    const stream = uniqueStream();
    const producer = kafka.producer({ transactionalId: uniqueTopic('replicator-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.send({ topic, messages: [1, 2, 3].map((v) => encodeEvent(dc2Event(stream, v))) });
    await transaction.commit(); // 3 records and a commit marker: the high watermark is 4
    await producer.disconnect();

    const running = await run([topic]);
    try {
      await eventually(async () => running.importer.imported === 3);
      // The marker is never delivered: only the fetch that passes it alone says the partition is read to its end.
      await eventually(async () => JSON.stringify(running.importer.lagRecords()) === JSON.stringify([{ topic, partition: 0, lag: 0 }]));
    } finally {
      await running.stop();
    }
  });

  it('commits past an event read twice while it waited for its predecessor (a mirror record written again)', async () => {
    const [fromDc2, fromDc3] = [uniqueTopic('dc2.apim.events'), uniqueTopic('dc3.apim.events')];
    await createTopics(kafka, [{ topic: fromDc2 }, { topic: fromDc3 }]);
    const stream = uniqueStream();
    const v1 = dc2Event(stream, 1);
    const v2 = { ...dc2Event(stream, 2), originDc: 'dc3' };
    await publish(fromDc3, [v2, v2]); // as an aborted transaction's record, then the retried one
    const groupId = uniqueTopic('importer');
    const running = await run([fromDc2, fromDc3], groupId);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(async () => running.importer.held === 1);
      await publish(fromDc2, [v1]);
      await eventually(async () => (await store.streamVersion(stream)) === 2);
      // Both records of dc3's partition are behind the group: a restart would not read either again.
      await eventually(async () => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [fromDc3] });
        return offsets.partitions[0].offset === '2';
      });
    } finally {
      await admin.disconnect();
      await running.stop();
    }
    expect((await store.readStream(stream)).map((e) => e.eventId)).toEqual([v1.eventId, v2.eventId]);
  });

  it('sends an invalid record to the DLQ with its reason and carries on', async () => {
    const topic = uniqueTopic('dc2.apim.events');
    await createTopics(kafka, [{ topic }]);
    const stream = uniqueStream();
    const good = dc2Event(stream, 1);
    const bad = { ...dc2Event(uniqueStream(), 1), payload: { name: 'Bad', requestsPerMinute: -5, burst: 0, unlimited: false } };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: 'garbage', value: 'not json', headers: { 'apim.mirror.offset': '41' } }, encodeEvent(bad), encodeEvent(good)],
    });
    await producer.disconnect();

    const running = await run([topic]);
    await eventually(async () => running.importer.imported === 1 && running.importer.deadLettered === 2);
    await running.stop();
    expect((await store.readStream(stream)).map((e) => e.eventId)).toEqual([good.eventId]);
    expect(await store.streamVersion(bad.streamId)).toBe(0);

    const letters: { reason: string; source: string; mirrorOffset?: string }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueTopic('dlq-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.dlq, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.headers?.['dlq.source.topic']?.toString() !== topic) return;
          letters.push({
            reason: message.headers['dlq.reason']!.toString(),
            source: message.headers['dlq.source.offset']!.toString(),
            mirrorOffset: message.headers['apim.mirror.offset']?.toString(),
          });
          if (letters.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(letters.map((l) => l.source)).toEqual(['0', '1']);
    expect(letters[0].reason).toMatch(/json/i);
    // The record's own headers are kept: a mirror's source offset tells two copies of one record apart from two records.
    expect(letters[0].mirrorOffset).toBe('41');
    expect(letters[1].reason).toMatch(/requestsPerMinute/);
  });
});
