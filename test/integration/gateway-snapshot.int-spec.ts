import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTopics, TOPICS } from '@apim/events';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { EventWriter, testApiKey } from '../support/event-writer';
import { eventually, RunningGateway, startGateway, startUpstream } from '../support/gateway';
import { testKafka } from '../support/kafka';

interface Readiness {
  status: string;
  reason: string;
  kafka: string;
  source: string;
}

/**
 * A cluster of this test's own, since it is stopped: a gateway restarted while
 * Kafka is down serves from its snapshot, and one without a snapshot says why
 * it is not ready.
 */
describe('a gateway restarted while Kafka is down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apim-gw-snapshot-'));
  const cluster = new KafkaCluster({ name: 'gw-snapshot', dataDir: join(dir, 'kafka'), heap: '384m' });
  const snapshotFile = join(dir, 'gateway', 'routing.snapshot.json');
  const gateways: RunningGateway[] = [];
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  const readiness = async (gateway: RunningGateway) => {
    const response = await fetch(`${gateway.url}/readyz`);
    return { code: response.status, body: (await response.json()) as Readiness };
  };
  const start = async (name: string, env: Record<string, string> = {}) => {
    const gateway = await startGateway(
      { KAFKA_BROKERS: cluster.brokers, SNAPSHOT_FILE: snapshotFile, SNAPSHOT_INTERVAL_SECONDS: '1', ...env },
      name,
    );
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    await cluster.start();
    upstream = await startUpstream();
  });

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.process.stop(10_000)));
    await upstream?.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves from its snapshot and reports degraded; without a snapshot it stays not ready and says why; both recover with Kafka', async () => {
    const kafka = testKafka([cluster.brokers]);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [TOPICS.events]).finally(() => admin.disconnect());
    const writer = new EventWriter(kafka, { dc: 'dc1' });
    const apiId = randomUUID();
    const applicationId = randomUUID();
    const key = testApiKey();
    await writer.send([
      writer.envelope('policy.created', 'policy:Gold', { name: 'Gold', requestsPerMinute: 1000, burst: 0, unlimited: false }),
      writer.envelope('api.created', apiId, {
        name: 'snap',
        version: 'v1',
        context: '/snap',
        upstreamUrls: [upstream.url],
        upstreamTimeoutMs: 1000,
        operations: [{ method: '*', path: '/*', auth: 'apikey' }],
        tiers: ['Gold'],
        visibility: 'public',
      }),
      writer.envelope('api.published', apiId, {}),
      writer.envelope('application.created', applicationId, { ownerId: 'user:dev', name: 'app', policy: 'Gold' }),
      writer.envelope('subscription.created', `sub:${applicationId}:${apiId}`, { applicationId, apiId, tier: 'Gold' }),
      writer.envelope('apikey.generated', randomUUID(), { applicationId, keyHash: key.keyHash, prefix: key.prefix, expiresAt: null }),
    ]);
    await writer.close();

    const first = await start('first');
    await eventually(async () => expect((await readiness(first)).body.status).toBe('ready'), 60_000);
    const call = (gateway: RunningGateway) => fetch(`${gateway.url}/snap/v1/hello`, { headers: { apikey: key.key } });
    expect((await call(first)).status).toBe(200);
    await first.process.stop(10_000);
    expect(existsSync(snapshotFile)).toBe(true);

    await cluster.stop();

    const restarted = await start('restarted');
    const degraded = await eventually(async () => {
      const answer = await readiness(restarted);
      expect(answer.body.status).toBe('degraded');
      return answer;
    });
    expect(degraded.code).toBe(200);
    expect(degraded.body).toMatchObject({ kafka: 'down', source: 'snapshot' });
    expect(degraded.body.reason).toMatch(/snapshot/);
    expect((await call(restarted)).status).toBe(200);
    const metrics = await (await fetch(`${restarted.url}/metrics`)).text();
    expect(metrics).toMatch(/apim_gateway_degraded\{[^}]*\} 1/);
    expect(metrics).toMatch(/apim_gateway_kafka_up\{[^}]*\} 0/);

    const empty = await start('empty', { SNAPSHOT_FILE: join(dir, 'none', 'absent.json') });
    const notReady = await eventually(async () => {
      const answer = await readiness(empty);
      expect(answer.body.status).toBe('not-ready');
      return answer;
    });
    expect(notReady.code).toBe(503);
    expect(notReady.body.reason).toMatch(/no snapshot/);
    const refused = await call(empty);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'NOT_READY' });

    await cluster.start();
    for (const gateway of [restarted, empty]) {
      await eventually(async () => expect((await readiness(gateway)).body.status).toBe('ready'), 90_000);
      expect((await call(gateway)).status).toBe(200);
    }
  });
});
