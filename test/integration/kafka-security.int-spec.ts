import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { decodeUsage, ensureTopics, mirrorTopic, TOPICS, UsageSummary } from '@apim/events';
import { replicatorEnv } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/free-port';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { makeBrokerCertificates } from '../../tools/infra/kafka-tls';
import { startAppProcess, waitForHttp } from '../support/apps';
import { readRecordsUntil } from '../support/events';
import { EventWriter, testApiKey } from '../support/event-writer';
import { eventually, RunningGateway, startGateway, startUpstream } from '../support/gateway';
import { testBrokers } from '../support/test-env';

/**
 * A broker that takes only SASL_SSL (TLS, then SASL/PLAIN), and a gateway
 * configured through the KAFKA_TLS_* and KAFKA_SASL_* variables: its feed, its
 * admin client and its telemetry thread all have to get through.
 */
describe('Kafka over TLS with SASL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apim-kafka-sasl-'));
  const gatewayPassword = randomBytes(12).toString('hex');
  const replicatorPassword = randomBytes(12).toString('hex');
  const users = { admin: randomBytes(12).toString('hex'), gateway: gatewayPassword, replicator: replicatorPassword };
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let caFile: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  const gateways: RunningGateway[] = [];
  let replicator: GuardedProcess | undefined;

  beforeAll(async () => {
    const tls = makeBrokerCertificates(join(dir, 'tls'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, tls.caPem);
    cluster = new KafkaCluster({ name: 'sasl-ssl', dataDir: join(dir, 'kafka'), heap: '256m', saslSsl: { tls, users } });
    await cluster.start();
    kafka = new Kafka({ clientId: 'sasl-test', brokers: [cluster.brokers], ...cluster.clientSecurity(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [TOPICS.events, TOPICS.analytics, TOPICS.heartbeats, TOPICS.dlq]).finally(() => admin.disconnect());
    upstream = await startUpstream();
  }, 120_000);

  afterAll(async () => {
    await replicator?.stop(10_000);
    for (const gateway of gateways) await gateway.process.stop(10_000);
    await upstream?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function gateway(name: string, password: string, extra: Record<string, string> = {}): Promise<RunningGateway> {
    return startGateway(
      {
        KAFKA_BROKERS: cluster.brokers,
        KAFKA_TLS_CA_FILE: caFile,
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'gateway',
        KAFKA_SASL_PASSWORD: password,
        GATEWAY_ID: `gw-${name}-${randomUUID()}`,
        ...extra,
      },
      `sasl-${name}`,
    ).then((started) => {
      gateways.push(started);
      return started;
    });
  }

  it('refuses clients that do not use TLS and SASL (the broker really requires them)', async () => {
    const plaintext = new Kafka({
      clientId: 'plain',
      brokers: [cluster.brokers],
      retry: { retries: 0 },
      connectionTimeout: 2000,
      logLevel: logLevel.NOTHING,
    });
    const admin = plaintext.admin();
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow();
    await admin.disconnect().catch(() => undefined);
  });

  it('serves an API from events read over TLS and SASL, and writes its usage records back the same way', async () => {
    const writer = new EventWriter(kafka);
    const apiId = randomUUID();
    const applicationId = randomUUID();
    const key = testApiKey();
    const context = `/sasl-${randomBytes(3).toString('hex')}`;
    await writer.write('policy.created', 'policy:SaslGold', { name: 'SaslGold', requestsPerMinute: 100_000, burst: 0, unlimited: false });
    await writer.write('api.created', apiId, {
      name: 'sasl',
      version: 'v1',
      context,
      upstreamUrls: [upstream.url],
      upstreamTimeoutMs: 2000,
      operations: [{ method: '*', path: '/*', auth: 'apikey' }],
      tiers: ['SaslGold'],
      visibility: 'public',
    });
    await writer.write('api.published', apiId, {});
    await writer.write('application.created', applicationId, { ownerId: 'user:dev', name: 'sasl app', policy: 'SaslGold' });
    await writer.write('subscription.created', `sub:${applicationId}:${apiId}`, { applicationId, apiId, tier: 'SaslGold' });
    await writer.write('apikey.generated', randomUUID(), { applicationId, keyHash: key.keyHash, prefix: key.prefix, expiresAt: null });
    await writer.close();

    const gw = await gateway('ok', gatewayPassword);
    await eventually(async () => expect((await fetch(`${gw.url}/readyz`)).status).toBe(200), 60_000);
    const answer = await fetch(`${gw.url}${context}/v1/items`, { headers: { apikey: key.key } });
    expect(answer.status).toBe(200);

    const gatewayId = (await (await fetch(`${gw.url}/healthz`)).json()) as { gatewayId: string };
    const summaries = await readRecordsUntil<UsageSummary>(
      kafka,
      TOPICS.analytics,
      (message) => {
        const decoded = decodeUsage(message.value);
        return decoded.ok && 'kind' in decoded.usage && decoded.usage.gatewayId === gatewayId.gatewayId ? decoded.usage : null;
      },
      (found) => found.length > 0,
    );
    expect(summaries[0]).toMatchObject({ apiId, applicationId, requests: 1, errors: 0, clientErrors: 0 });
    expect(readFileSync(gw.logFile, 'utf8')).not.toContain(gatewayPassword);
  }, 120_000);

  it("mirrors a peer cluster reached with the peer's own variables into this secured cluster reached with its own", async () => {
    // This DC ("sec") is the secured cluster; its peer dc1 is the shared plaintext test cluster. Without
    // PEER_DC1_KAFKA_TLS=false the replicator would offer dc1 this DC's TLS and SASL, and never get through.
    // A real event: dc1's apim.events is shared by every test file, and its readers refuse anything else.
    const marker = randomUUID();
    const source = new Kafka({ clientId: 'peer-writer', brokers: testBrokers('dc1'), logLevel: logLevel.NOTHING });
    const sourceAdmin = source.admin();
    await sourceAdmin.connect();
    await ensureTopics(sourceAdmin, [TOPICS.events, TOPICS.analytics]).finally(() => sourceAdmin.disconnect());
    const peerWriter = new EventWriter(source, { dc: 'dc1' });
    const written = await peerWriter.write('application.created', marker, { ownerId: 'user:peer', name: 'peer identity', policy: 'Gold' });
    await peerWriter.close();

    const port = await freePort();
    replicator = startAppProcess(
      'replicator',
      {
        ...replicatorEnv('sec', cluster.brokers, 'dc1', testBrokers('dc1').join(','), port),
        KAFKA_TLS_CA_FILE: caFile,
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'replicator',
        KAFKA_SASL_PASSWORD: replicatorPassword,
        PEER_DC1_KAFKA_TLS: 'false',
      },
      join(dir, 'replicator.log'),
    );
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, 20);
    const mirrored = await readRecordsUntil<string>(
      kafka,
      mirrorTopic('dc1', TOPICS.events),
      (message) => (message.key?.toString() === marker ? message.value!.toString() : null),
      (found) => found.length > 0,
    );
    expect(mirrored).toHaveLength(1);
    expect(JSON.parse(mirrored[0])).toMatchObject({ eventId: written.eventId, streamId: marker });
    await eventually(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), 30_000);
    expect(readFileSync(join(dir, 'replicator.log'), 'utf8')).not.toContain(replicatorPassword);
  }, 180_000);

  it('with a wrong password stays not ready, says why, and never logs the password', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const gw = await gateway('wrong', wrong);
    await eventually(async () => {
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(readFileSync(gw.logFile, 'utf8')).toMatch(/SASL|[Aa]uthentication/);
    }, 30_000);
    const log = readFileSync(gw.logFile, 'utf8');
    expect(log).not.toContain(wrong);
    expect(log).not.toContain(gatewayPassword);
  }, 60_000);
});
