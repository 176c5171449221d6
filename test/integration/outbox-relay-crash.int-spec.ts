import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EventEnvelope, StreamOrdering, TOPICS } from '@apim/events';
import { PostgresEventStore } from '../../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { freePort } from '../../tools/infra/free-port';
import { startAppProcess, TEST_SECRET_KEY, waitForHttp } from '../support/apps';
import { TestDatabase } from '../support/databases';
import { CONTEXT, expectPerStreamOrder, policyCreated, readTopicUntil, uniqueStream } from '../support/events';
import { testKafka } from '../support/kafka';

/** The relay runs inside a real control-plane process, killed with SIGKILL while it publishes. */
describe('the outbox relay killed mid-stream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apim-relay-crash-'));
  const cluster = new KafkaCluster({ name: 'relay-crash', dataDir: join(dir, 'kafka'), heap: '384m' });
  let db: TestDatabase;
  let dataSource: DataSource;
  let writing = true;
  let writer: Promise<void> = Promise.resolve();
  const logFile = join(dir, 'control-plane.log');
  let passed = false;
  // Every control plane this test starts, stopped in afterAll even when an assertion fails first.
  const apps: GuardedProcess[] = [];

  beforeAll(async () => {
    db = await TestDatabase.create('relay_crash');
    dataSource = await db.migrated();
    await cluster.start();
  });
  afterAll(async () => {
    writing = false;
    await writer.catch(() => undefined);
    await Promise.all(apps.map((app) => app.stop()));
    if (!passed && existsSync(logFile)) console.error(`control-plane log tail:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    await cluster.stop();
    await dataSource.destroy();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing after a restart, and consumers ignore the duplicates', async () => {
    const store = new PostgresEventStore(dataSource);
    const kafka = testKafka([cluster.brokers]);
    const streams = Array.from({ length: 20 }, () => uniqueStream());
    const versions = new Map(streams.map((s) => [s, 0]));
    writer = (async () => {
      for (let i = 0; writing; i++) {
        const stream = streams[i % streams.length];
        const version = versions.get(stream)!;
        await store.append(stream, 'policy', version, [policyCreated(i), policyCreated(i + 1)], CONTEXT);
        versions.set(stream, version + 2);
      }
    })();

    const port = await freePort();
    const env = {
      DC_ID: 'dc1',
      KAFKA_BROKERS: cluster.brokers,
      DATABASE_URL: db.url,
      PORT: String(port),
      APIM_SECRET_KEY: TEST_SECRET_KEY,
    };
    const first = startAppProcess('control-plane', env, logFile);
    apps.push(first);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    await readTopicUntil(kafka, TOPICS.events, (read) => read.length >= 200);
    first.kill('SIGKILL'); // a crash: no shutdown hook runs
    await first.exited;

    const second = startAppProcess('control-plane', env, logFile);
    apps.push(second);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      writing = false;
      await writer;
      const total = [...versions.values()].reduce((a, b) => a + b, 0);
      const events = await readTopicUntil(
        kafka,
        TOPICS.events,
        (read) => new Set(read.filter((e) => versions.has(e.streamId)).map((e) => e.eventId)).size >= total,
        90_000,
      );
      // The control plane's own bootstrap events (region, keys, policies) share the topic.
      expectPerStreamOrder(
        events.filter((e) => versions.has(e.streamId)),
        versions,
      );

      // A consumer applying through the ordering helper sees each event exactly once.
      const applied = new Map<string, EventEnvelope[]>();
      const ordering = new StreamOrdering<EventEnvelope>({ currentVersion: () => 0 });
      for (const event of events)
        for (const ready of await ordering.offer(event)) applied.set(ready.streamId, [...(applied.get(ready.streamId) ?? []), ready]);
      for (const stream of streams) {
        const stored = await store.readStream(stream);
        expect(applied.get(stream)?.map((e) => e.eventId)).toEqual(stored.map((e) => e.eventId));
      }
    } finally {
      await second.stop();
    }
    expect(readFileSync(logFile, 'utf8')).toContain('"service":"control-plane"');
    passed = true;
  });
});
