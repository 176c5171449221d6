import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics, TOPICS } from '@apim/events';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { createTopics } from '../support/kafka';

/** A cluster of this test's own: stopping the shared ones would disturb other tests. */
describe('a broker stopped and restarted by the launcher', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'apim-restart-'));
  const cluster = new KafkaCluster({ name: 'restart', dataDir, heap: '384m' });

  afterAll(async () => {
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps its data, and a retrying producer delivers every record sent across the outage', async () => {
    await cluster.start();
    const kafka = new Kafka({
      clientId: 'restart-test',
      brokers: [cluster.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    await createTopics(kafka, [{ topic: 'restart.records' }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: 'restart.records', messages: [{ value: 'before' }] });

    const pidBefore = cluster.pid;
    await cluster.stop();
    expect(cluster.running).toBe(false);
    expect(pidAlive(pidBefore!)).toBe(false);

    // Sent while the broker is down: kafkajs retries until the restart below.
    const during = producer.send({ topic: 'restart.records', messages: [{ value: 'during' }] });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await cluster.start();
    await during;
    await producer.send({ topic: 'restart.records', messages: [{ value: 'after' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'restart-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'restart.records', fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === 3) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(values).toEqual(['before', 'during', 'after']);
    expect(cluster.pid).not.toBe(pidBefore);
  });

  it('reports the log tail when a broker cannot start', async () => {
    const blocker = new KafkaCluster({
      name: 'clash',
      dataDir: mkdtempSync(join(tmpdir(), 'apim-clash-')),
      port: cluster.port,
      startTimeoutMs: 60_000,
    });
    await expect(blocker.start()).rejects.toThrow(/Kafka clash (exited during start-up|did not answer)[\s\S]*Log tail/);
    expect(blocker.running).toBe(false);
    rmSync(blocker.dataDir, { recursive: true, force: true });
  });
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Topics take the brokers' replication factor: a production cluster's `default.replication.factor`, not a hard-coded 1. */
describe('topics the apps create', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'apim-rf-'));
  // One broker that wants three copies of every new topic: a creation that took the brokers' default must fail.
  const cluster = new KafkaCluster({ name: 'rf3', dataDir, heap: '256m', brokerProperties: { 'default.replication.factor': '3' } });

  afterAll(async () => {
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("take the brokers' default.replication.factor, and a refusal names the topics and the reason", async () => {
    await cluster.start();
    const kafka = new Kafka({ clientId: 'rf-test', brokers: [cluster.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const refusal = ensureTopics(admin, [TOPICS.events, TOPICS.dlq]);
      await expect(refusal).rejects.toThrow(/cannot create Kafka topics apim\.events, apim\.events\.dlq: INVALID_REPLICATION_FACTOR/);
      await expect(refusal).rejects.toThrow(/default\.replication\.factor/);
      expect(await admin.listTopics()).not.toContain(TOPICS.events);
    } finally {
      await admin.disconnect();
    }
  });
});
