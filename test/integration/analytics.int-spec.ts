import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { encodeUsageRecord, JsonLogger, mirrorTopic, TOPICS, UsageRecord } from '@apim/events';
import { UsageIngestor } from '../../apps/control-plane/src/analytics/usage-ingestor';
import { usage, UsageReport } from '../../apps/control-plane/src/analytics/usage.query';
import { TestDatabase } from '../support/databases';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';
import { testBrokers } from '../support/test-env';

const quiet = new JsonLogger({ test: 'analytics' }, 'error');

const API = randomUUID();
const OTHER_API = randomUUID();
const APP_A = randomUUID();
const APP_B = randomUUID();
const FROM = new Date('2030-01-15T10:00:00Z');
const TO = new Date('2030-01-15T11:00:00Z');

function usageRecord(dc: string, at: string, status: number, latencyMs: number, applicationId: string | null, apiId = API): UsageRecord {
  return {
    recordId: randomUUID(),
    gatewayId: `gw-${dc}`,
    dc,
    apiId,
    applicationId,
    method: 'GET',
    status,
    latencyMs,
    responseBytes: 128,
    at,
  };
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function send(kafka: Kafka, topic: string, messages: { key: string; value: Buffer | string }[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

async function topicExists(kafka: Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

describe('the usage ingestor', () => {
  const kafka = testKafka(testBrokers('dc1'));
  // The ingestor takes its topics as given: unique names keep this file's records to itself.
  const local = uniqueTopic(TOPICS.analytics);
  // Named like a real mirror, so that the ingestor can create it with the analytics configuration.
  const peerMirror = mirrorTopic(uniqueTopic('dc2').replace('.', ''), TOPICS.analytics);

  const dc1 = [
    usageRecord('dc1', '2030-01-15T10:00:05Z', 200, 10, APP_A),
    usageRecord('dc1', '2030-01-15T10:00:10.250Z', 500, 30, APP_A),
    usageRecord('dc1', '2030-01-15T11:00:59+01:00', 404, 5, null), // 10:00 UTC
    usageRecord('dc1', '2030-01-15T10:01:00Z', 200, 20, APP_B),
  ];
  const dc2 = [
    usageRecord('dc2', '2030-01-15T10:00:59.999Z', 200, 40, APP_A),
    usageRecord('dc2', '2030-01-15T10:00:30Z', 503, 100, APP_B),
    usageRecord('dc2', '2030-01-15T10:02:00Z', 429, 1, APP_A),
    usageRecord('dc2', '2030-01-15T10:02:00Z', 200, 7, APP_A, OTHER_API),
  ];
  const validRecords = dc1.length + 1 + dc2.length; // dc1[1] is delivered twice
  const distinctRecords = dc1.length + dc2.length;

  let db: TestDatabase;
  let dataSource: DataSource;
  let ingestor: UsageIngestor;
  const started: UsageIngestor[] = [];
  let firstReport: UsageReport;
  const groupId = uniqueTopic('analytics-dc1');

  async function startIngestor(groupId?: string): Promise<UsageIngestor> {
    const created = new UsageIngestor({ db: dataSource, kafka, dc: 'dc1', topics: [local, peerMirror], logger: quiet, groupId });
    started.push(created);
    await created.start();
    return created;
  }

  const report = () => usage(dataSource, { apiId: API, from: FROM, to: TO });

  beforeAll(async () => {
    db = await TestDatabase.create('analytics');
    dataSource = await db.migrated();
    await createTopics(kafka, [{ topic: local, numPartitions: 3 }]);
    const encoded = [...dc1, dc1[1]].map(encodeUsageRecord);
    await send(kafka, local, [...encoded, { key: API, value: 'not json' }]);

    // The peer's mirror does not exist yet: starting must create it rather than fail.
    expect(await topicExists(kafka, peerMirror)).toBe(false);
    ingestor = await startIngestor(groupId);
    expect(await topicExists(kafka, peerMirror)).toBe(true);

    const invalid = { ...usageRecord('dc2', '2030-01-15T10:03:00Z', 700, 1, null), status: 700 };
    await send(kafka, peerMirror, [...dc2.map(encodeUsageRecord), { key: API, value: JSON.stringify(invalid) }]);
  });

  afterAll(async () => {
    for (const each of started) await each.stop();
    await dataSource?.destroy();
    await db?.drop();
  });

  it('counts requests, errors and latency of the local topic and of a peer mirror, by minute and by DC', async () => {
    firstReport = await eventually(report, (r) => r.requests === 7);
    expect(firstReport).toEqual({
      apiId: API,
      from: FROM,
      to: TO,
      requests: 7,
      errors: 2,
      clientErrors: 2,
      averageLatencyMs: (10 + 30 + 5 + 20 + 40 + 100 + 1) / 7,
      maxLatencyMs: 100,
      byMinute: [
        { minute: new Date('2030-01-15T10:00:00Z'), requests: 5, errors: 2 },
        { minute: new Date('2030-01-15T10:01:00Z'), requests: 1, errors: 0 },
        { minute: new Date('2030-01-15T10:02:00Z'), requests: 1, errors: 0 },
      ],
      byDc: [
        { dc: 'dc1', requests: 4 },
        { dc: 'dc2', requests: 3 },
      ],
    });
  });

  it('counts a record delivered twice once', async () => {
    await eventually(
      async () => ingestor.applied + ingestor.duplicates,
      (n) => n === validRecords,
    );
    expect(ingestor.applied).toBe(distinctRecords);
    expect(ingestor.duplicates).toBe(1);
    const [{ seen }] = await dataSource.query(`SELECT count(*)::int AS seen FROM usage_records_seen`);
    expect(seen).toBe(distinctRecords);
  });

  it('commits the offsets of what it has applied', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [local, peerMirror]) {
        const ends = await admin.fetchTopicOffsets(topic);
        const endOf = (partition: number) => ends.find((p) => p.partition === partition)!.offset;
        const committed = await eventually(
          async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions,
          (partitions) => partitions.every((p) => p.offset === endOf(p.partition) || (p.offset === '-1' && endOf(p.partition) === '0')),
        );
        expect(committed).toHaveLength(ends.length);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('keeps other APIs and applications apart', async () => {
    const other = await usage(dataSource, { apiId: OTHER_API, from: FROM, to: TO });
    expect([other.requests, other.byDc]).toEqual([1, [{ dc: 'dc2', requests: 1 }]]);
    const appA = await usage(dataSource, { apiId: API, from: FROM, to: TO, applicationId: APP_A });
    expect([appA.requests, appA.errors, appA.clientErrors, appA.maxLatencyMs]).toEqual([4, 1, 1, 40]);
    const anonymous = await usage(dataSource, { apiId: API, from: FROM, to: TO, applicationId: '' });
    expect(anonymous.requests).toBe(1);
  });

  it('sends undecodable records to the DLQ with their reason and carries on', async () => {
    await eventually(
      async () => ingestor.deadLettered,
      (n) => n === 2,
    );
    const letters = new Map<string, string>();
    const reader = kafka.consumer({ groupId: uniqueTopic('dlq-reader') });
    await reader.connect();
    await reader.subscribe({ topic: TOPICS.dlq, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const source = message.headers?.['dlq.source.topic']?.toString();
        if (source === local || source === peerMirror) letters.set(source, message.headers!['dlq.reason']!.toString());
      },
    });
    try {
      await eventually(
        async () => letters.size,
        (n) => n === 2,
      );
    } finally {
      await reader.disconnect();
    }
    expect(letters.get(local)).toBe('value is not valid JSON');
    expect(letters.get(peerMirror)).toBe('record.status: must be an integer 100..599');
  });

  it('applying the same records twice changes nothing', async () => {
    const bucketsBefore = await dataSource.query(`SELECT * FROM rm_usage ORDER BY api_id, application_id, dc, minute`);
    const replay = await startIngestor(uniqueTopic('analytics-replay')); // a new group reads both topics again
    await eventually(
      async () => replay.duplicates + replay.deadLettered,
      (n) => n === validRecords + 2,
    );
    await replay.stop();
    expect(replay.applied).toBe(0);
    expect(await dataSource.query(`SELECT * FROM rm_usage ORDER BY api_id, application_id, dc, minute`)).toEqual(bucketsBefore);
    expect(await report()).toEqual(firstReport);
  });

  it('forgets seen record ids once they are older than the retention', async () => {
    expect(await ingestor.pruneSeen(new Date(Date.now() + 9 * 24 * 3600 * 1000))).toBe(distinctRecords);
    const [{ seen }] = await dataSource.query(`SELECT count(*)::int AS seen FROM usage_records_seen`);
    expect(seen).toBe(0);
  });

  it('refuses an empty, inverted or longer than 31 days range', async () => {
    await expect(usage(dataSource, { apiId: API, from: TO, to: TO })).rejects.toThrow('from must be before to');
    await expect(usage(dataSource, { apiId: API, from: TO, to: FROM })).rejects.toThrow('from must be before to');
    const tooLong = usage(dataSource, { apiId: API, from: FROM, to: new Date(FROM.getTime() + 31 * 24 * 3600 * 1000 + 1) });
    await expect(tooLong).rejects.toThrow('the range from..to must not be longer than 31 days');
    await expect(tooLong).rejects.toMatchObject({ kind: 'BAD_USER_INPUT', code: 'USAGE.RANGE_TOO_LONG' });
    const month = await usage(dataSource, { apiId: API, from: FROM, to: new Date(FROM.getTime() + 31 * 24 * 3600 * 1000) });
    expect(month.requests).toBe(7);
  });
});
