/**
 * Gateway cold start: time and memory for a new gateway process to build its
 * routing table from N events on apim.events (APIs, applications,
 * subscriptions, API keys) and report ready, against a bare kafkajs consumer
 * reading the same records without decoding or applying them (the floor).
 * Usage: npm run bench:gateway-cold-start [-- --events 100000]
 * Uses KAFKA_BROKERS_DC1, or starts its own Kafka.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { encodeEvent, EventEnvelope, EventType, newEnvelope, sha256Hex, TOPICS } from '@apim/events';
import { freePort } from '../tools/infra/free-port';
import { argument, benchGateway, benchKafka, printTable, progress, waitFor200 } from './support/bench-infra';

const EVENTS = Number(argument('--events') ?? 100_000);

function envelope(type: EventType, streamId: string, version: number, payload: object): EventEnvelope {
  return newEnvelope(type, streamId, version, payload, { originDc: 'dc1', epoch: 1, actor: 'user:bench' });
}

/** APIs (created + published), applications, and per application a subscription and a key: about EVENTS events. */
function* workload(upstream: string, sample: { key?: string; context?: string }): Generator<EventEnvelope> {
  yield envelope('policy.created', 'policy:Gold', 1, { name: 'Gold', requestsPerMinute: 100_000, burst: 0, unlimited: false });
  const apis = Math.max(1, Math.floor(EVENTS / 50));
  const apiIds: string[] = [];
  for (let i = 0; i < apis; i++) {
    const id = randomUUID();
    apiIds.push(id);
    const context = `/bench-${i}`;
    yield envelope('api.created', id, 1, {
      name: `API ${i}`,
      version: 'v1',
      context,
      upstreamUrls: [upstream],
      upstreamTimeoutMs: 5000,
      operations: [
        { method: 'GET', path: '/items/{id}', auth: 'apikey' },
        { method: '*', path: '/*', auth: 'apikey' },
      ],
      tiers: ['Gold'],
      visibility: 'public',
    });
    yield envelope('api.published', id, 2, {});
    sample.context ??= context;
  }
  const applications = Math.floor((EVENTS - 1 - 2 * apis) / 3);
  for (let i = 0; i < applications; i++) {
    const applicationId = randomUUID();
    const apiId = apiIds[i % apis];
    const key = `apim_${randomBytes(32).toString('base64url')}`;
    yield envelope('application.created', applicationId, 1, { ownerId: `user:dev${i}`, name: `app ${i}`, policy: 'Gold' });
    yield envelope('subscription.created', `sub:${applicationId}:${apiId}`, 1, { applicationId, apiId, tier: 'Gold' });
    yield envelope('apikey.generated', randomUUID(), 1, {
      applicationId,
      keyHash: sha256Hex(key),
      prefix: key.slice(0, 12),
      expiresAt: null,
    });
    if (i === 0) sample.key = key;
  }
}

async function bareConsumerSeconds(kafka: Kafka, expected: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-bare-${randomBytes(4).toString('hex')}`, maxBytes: 16 * 1024 * 1024 });
  const started = process.hrtime.bigint();
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.events, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= expected) resolve();
      },
    });
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await consumer.disconnect();
  return seconds;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apim-bench-gw-'));
  const { kafka, brokers, stop } = await benchKafka(dir);
  const upstreamPort = await freePort();
  const upstream = createServer((_req, res) => res.end('{"ok":true}')).listen(upstreamPort, '127.0.0.1');
  let gateway: Awaited<ReturnType<typeof benchGateway>> | undefined;
  try {
    const admin = kafka.admin();
    await admin.connect();
    const before = (await admin.fetchTopicOffsets(TOPICS.events)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.disconnect();

    const sample: { key?: string; context?: string } = {};
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let written = 0;
    let batch: EventEnvelope[] = [];
    const flush = async () => {
      await producer.send({ topic: TOPICS.events, acks: -1, messages: batch.map(encodeEvent) });
      written += batch.length;
      batch = [];
      if (written % 20_000 < 5000) progress(`  written ${written} events`);
    };
    for (const event of workload(`http://127.0.0.1:${upstreamPort}`, sample)) {
      batch.push(event);
      if (batch.length === 5000) await flush();
    }
    if (batch.length > 0) await flush();
    await producer.disconnect();
    const total = before + written;
    progress(`cold start benchmark: ${written} events written (${total} on ${TOPICS.events}), Kafka ${brokers}`);

    progress('  bare kafkajs consumer (no decoding, no table)...');
    const bare = await bareConsumerSeconds(kafka, total);

    progress('  gateway process from spawn to /readyz 200...');
    const started = Date.now();
    gateway = await benchGateway({ KAFKA_BROKERS: brokers });
    await waitFor200(`${gateway.url}/readyz`);
    const gatewaySeconds = (Date.now() - started) / 1000;
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    const rssMiB = gauge('process_resident_memory_bytes') / 1024 / 1024;
    const heapMiB = gauge('nodejs_heap_size_used_bytes') / 1024 / 1024;
    const check = await fetch(`${gateway.url}${sample.context}/v1/items/1`, { headers: { apikey: sample.key! } });
    if (check.status !== 200) throw new Error(`a request with a benchmark key got ${check.status}: the table is not complete`);

    printTable(
      ['reader', 'events', 'seconds', 'events/s', 'RSS MiB', 'heap MiB'],
      [
        ['bare kafkajs consumer', total, bare.toFixed(2), (total / bare).toFixed(0), '-', '-'],
        [
          'gateway (spawn to ready)',
          total,
          gatewaySeconds.toFixed(2),
          (total / gatewaySeconds).toFixed(0),
          rssMiB.toFixed(0),
          heapMiB.toFixed(0),
        ],
      ],
    );
    console.log(`\ngateway / bare consumer time: ${(gatewaySeconds / bare).toFixed(2)}x; target: ready in under 5 s for 100,000 events`);
  } finally {
    await gateway?.process.stop(10_000);
    upstream.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
