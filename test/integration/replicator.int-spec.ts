import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Producer } from 'kafkajs';
import { decodeReplicationHeartbeat, MIRROR_HEADERS, ReplicationHeartbeat } from '@apim/events';
import { replicatorEnv } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/free-port';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { repoRoot } from '../../tools/infra/repo-root';
import { startAppProcess, waitForHttp } from '../support/apps';
import { readAllRecords, ReadRecord, readRecordsUntil } from '../support/events';
import { eventually } from '../support/gateway';
import { createTopics, testKafka } from '../support/kafka';

/**
 * The replicator as a real process between two clusters of this test's own
 * (the target is stopped for 30 s below, which the shared ones must not be):
 * dc1 is the source, the replicator runs for dc2 and pulls.
 */
describe('replicator', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'apim-replicator-'));
  const dc1 = new KafkaCluster({ name: 'repl-dc1', dataDir: join(dataDir, 'dc1'), heap: '384m' });
  const dc2 = new KafkaCluster({ name: 'repl-dc2', dataDir: join(dataDir, 'dc2'), heap: '384m' });
  let source: Kafka;
  let target: Kafka;
  let producer: Producer;
  let replicator: GuardedProcess | undefined;
  let port: number;
  let sent = 0;
  const logFile = join(repoRoot(), '.run', 'test', `replicator-${process.pid}.log`);

  beforeAll(async () => {
    await Promise.all([dc1.start(), dc2.start()]);
    source = testKafka([dc1.brokers], 'repl-test-source');
    target = testKafka([dc2.brokers], 'repl-test-target');
    await createTopics(source, [{ topic: 'apim.events', numPartitions: 3 }]);
    producer = source.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await replicator?.stop(10_000);
    await Promise.all([dc1.stop(), dc2.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  function startReplicator(): GuardedProcess {
    replicator = startAppProcess(
      'replicator',
      {
        ...replicatorEnv('dc2', dc2.brokers, 'dc1', dc1.brokers, port),
        HEARTBEAT_INTERVAL_MS: '300',
        TOPOLOGY_REFRESH_MS: '500',
        SOURCE_DOWN_AFTER_MS: '3000',
        LOG_LEVEL: 'info',
      },
      logFile,
    );
    return replicator;
  }

  /** Sends `count` records in batches of `batch`, keyed so that they spread over the partitions. */
  async function produce(count: number, batch = 100, topic = 'apim.events'): Promise<void> {
    for (let i = 0; i < count; i += batch) {
      const messages = Array.from({ length: Math.min(batch, count - i) }, () => {
        const n = sent++;
        return { key: `stream-${n % 37}`, value: JSON.stringify({ n }), headers: { type: 'test.record', originDc: 'dc1' } };
      });
      await producer.send({ topic, messages });
    }
  }

  async function readyz(): Promise<{ status: number; body: { status: string; sources: ReplicationHeartbeat[] } }> {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: response.status, body: (await response.json()) as { status: string; sources: ReplicationHeartbeat[] } };
  }

  /** The mirror holds exactly the source's records: same partitions, order, keys, values and headers, each once. */
  async function expectExactMirror(topic = 'apim.events'): Promise<number> {
    const expected = await readAllRecords(source, topic);
    const total = expected.reduce((sum, p) => sum + p.length, 0);
    const mirrored = await eventually(
      async () => {
        const records = await readAllRecords(target, `dc1.${topic}`);
        const count = records.reduce((sum, p) => sum + p.length, 0);
        if (count < total) throw new Error(`mirror has ${count} of ${total} records`);
        return records;
      },
      90_000,
      500,
    );
    const strip = (r: ReadRecord) => ({ key: r.key, value: r.value, headers: r.headers });
    for (let partition = 0; partition < expected.length; partition++) {
      const got = mirrored[partition] ?? [];
      expect(got.length).toBe(expected[partition].length);
      expect(got.map((r) => r.headers[MIRROR_HEADERS.offset])).toEqual(expected[partition].map((r) => r.offset));
      expect(got.every((r) => r.headers[MIRROR_HEADERS.source] === 'dc1')).toBe(true);
      expect(
        got.map((r) => {
          const { [MIRROR_HEADERS.offset]: _offset, [MIRROR_HEADERS.source]: _source, ...headers } = r.headers;
          return { ...strip(r), headers };
        }),
      ).toEqual(expected[partition].map(strip));
    }
    return total;
  }

  it('mirrors every record exactly once, same partition and headers, across a replicator killed mid-stream', async () => {
    // A backlog bigger than one fetch per partition: the mirror headers make the records bigger than fetched.
    await produce(30_000, 1000);
    startReplicator();
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000);

    // Keep writing while the replicator is killed (SIGKILL: no shutdown at all) and started again.
    const writing = produce(20_000, 50);
    await eventually(
      async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const mirrored = Number(/apim_replicator_records_total\{source="dc1"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
        if (mirrored < 34_000) throw new Error(`only ${mirrored} mirrored so far`);
      },
      60_000,
      50,
    );
    replicator!.kill('SIGKILL');
    await replicator!.exited;
    startReplicator();
    await writing;

    const total = await expectExactMirror();
    expect(total).toBe(50_000);
    await eventually(async () => {
      const { status, body } = await readyz();
      expect(status).toBe(200);
      expect(body.sources[0]).toMatchObject({ source: 'dc1', target: 'dc2', state: 'mirroring', lagRecords: 0, lagMs: 0 });
    });

    // Heartbeats in dc2's apim.heartbeats tell the control plane the lag even when nothing flows.
    const beats = await readRecordsUntil(
      target,
      'apim.heartbeats',
      (message) => {
        const decoded = decodeReplicationHeartbeat(message.value);
        return decoded?.ok ? decoded.heartbeat : null;
      },
      (items) => items.some((h) => h.state === 'mirroring' && h.lagRecords === 0 && h.partitions.length === 3),
    );
    const idle = beats.find((h) => h.state === 'mirroring' && h.lagRecords === 0 && h.partitions.length === 3)!;
    expect(idle).toMatchObject({ source: 'dc1', target: 'dc2', lagMs: 0 });
    expect(idle.partitions.map((p) => p.next)).toEqual(idle.partitions.map((p) => p.end));
  }, 240_000);

  it('picks up new partitions and new topics of the source without a restart', async () => {
    const admin = source.admin();
    await admin.connect();
    try {
      await admin.createPartitions({ topicPartitions: [{ topic: 'apim.events', count: 4 }] });
    } finally {
      await admin.disconnect();
    }
    // A fresh producer: kafkajs drops, without an error, records for a partition its metadata does not know yet.
    const fresh = source.producer();
    await fresh.connect();
    await fresh.send({ topic: 'apim.events', messages: [{ partition: 3, key: 'new-partition', value: 'p3' }] });
    await fresh.disconnect();
    await createTopics(source, [{ topic: 'apim.analytics', numPartitions: 2 }]);
    await produce(300, 100, 'apim.analytics');

    await expectExactMirror('apim.events');
    await expectExactMirror('apim.analytics');
    const mirrored = await readAllRecords(target, 'dc1.apim.events');
    expect(mirrored).toHaveLength(4);
    expect(mirrored[3].map((r) => r.value)).toEqual(['p3']);
  }, 120_000);

  it('catches up by itself after the target cluster was down for 30 s', async () => {
    await dc2.stop();
    const during = produce(3000, 100);
    await eventually(
      async () => {
        const { status, body } = await readyz();
        expect(status).toBe(503);
        expect(body.status).toBe('not-ready');
      },
      30_000,
      250,
    );
    await during;
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    await dc2.start();

    await expectExactMirror();
    await eventually(
      async () => {
        const { status, body } = await readyz();
        expect(status).toBe(200);
        expect(body.sources[0]).toMatchObject({ state: 'mirroring', lagRecords: 0 });
      },
      60_000,
      250,
    );
  }, 200_000);
});
