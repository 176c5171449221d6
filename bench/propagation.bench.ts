/**
 * Propagation benchmark: how long a change made in dc1 takes to take effect
 * at the gateways, in dc1 itself (the reference: outbox relay and gateway
 * feed only) and in dc2 (plus the replicator). Two DCs of real processes:
 * two Kafka clusters, two databases, two control planes, dc2's replicator
 * (pulling dc1) and one gateway per DC.
 *
 * - publish: `createApi` + `changeApiLifecycle(PUBLISH)` in dc1; from the
 *   moment the PUBLISH mutation answers until the gateway routes the API (200).
 * - revoke: `revokeApiKey` in dc1; from its answer until the gateway refuses
 *   the key (401). Keys are generated and checked as working first.
 * Changes are made one after the other at `--rate` per second; each gateway
 * is polled every 2 ms per pending change.
 *
 * `npm run bench:propagation -- --count 200 --rate 20`
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAppProcess } from '../tools/infra/app-process';
import { freePort } from '../tools/infra/free-port';
import { GuardedProcess } from '../tools/infra/guarded-process';
import { KafkaCluster } from '../tools/infra/kafka-cluster';
import { createDatabase, dropDatabase, resolvePostgres } from '../tools/infra/postgres';
import { repoRoot } from '../tools/infra/repo-root';
import { waitForHttp } from '../tools/infra/wait-for-http';
import { GraphQlClient } from '../tools/stack/graphql.client';
import { startSampleUpstream } from '../tools/stack/sample-upstream';
import { argument, printTable, progress } from './support/bench-infra';

const COUNT = Number(argument('--count') ?? 200);
const RATE = Number(argument('--rate') ?? 20);
const TARGET_P99_MS = 500;
const ADMIN = { username: 'bench-admin', password: 'a bench admin password' };
const SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Dc {
  name: 'dc1' | 'dc2';
  cluster: KafkaCluster;
  database: string;
  controlPlane: string;
  gateway: string;
}

async function main(): Promise<void> {
  const dir = join(repoRoot(), '.run', 'bench', `propagation-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const running: GuardedProcess[] = [];
  const postgres = await resolvePostgres({ dataDir: join(dir, 'postgres'), log: progress });
  const clusters = {
    dc1: new KafkaCluster({ name: 'prop-dc1', dataDir: join(dir, 'kafka-dc1'), heap: '512m', log: progress }),
    dc2: new KafkaCluster({ name: 'prop-dc2', dataDir: join(dir, 'kafka-dc2'), heap: '512m', log: progress }),
  };
  const databases = { dc1: `apim_bench_propagation_dc1_${process.pid}`, dc2: `apim_bench_propagation_dc2_${process.pid}` };
  const upstream = await startSampleUpstream(0);
  try {
    await Promise.all([clusters.dc1.start(), clusters.dc2.start()]);
    const launch = (app: 'control-plane' | 'gateway-worker' | 'replicator', name: string, env: Record<string, string>) => {
      const child = startAppProcess(app, { LOG_LEVEL: 'warn', ...env }, join(dir, `${name}.log`));
      running.push(child);
    };
    const dcs = {} as Record<'dc1' | 'dc2', Dc>;
    for (const name of ['dc1', 'dc2'] as const) {
      const peer = name === 'dc1' ? 'dc2' : 'dc1';
      const [cpPort, gwPort] = [await freePort(), await freePort()];
      const url = await createDatabase(postgres.adminUrl, databases[name], { recreate: true });
      const common = { DC_ID: name, PEER_DCS: peer, KAFKA_BROKERS: clusters[name].brokers };
      launch('control-plane', `cp-${name}`, {
        ...common,
        PORT: String(cpPort),
        DATABASE_URL: url,
        PRIMARY_DC: 'dc1',
        APIM_SECRET_KEY: SECRET_KEY,
        APIM_ADMIN_USER: ADMIN.username,
        APIM_ADMIN_PASSWORD: ADMIN.password,
      });
      launch('gateway-worker', `gw-${name}`, { ...common, PORT: String(gwPort) });
      dcs[name] = {
        name,
        cluster: clusters[name],
        database: url,
        controlPlane: `http://127.0.0.1:${cpPort}`,
        gateway: `http://127.0.0.1:${gwPort}`,
      };
    }
    const replicatorPort = await freePort();
    launch('replicator', 'replicator-dc2', {
      DC_ID: 'dc2',
      PEER_DCS: 'dc1',
      KAFKA_BROKERS: clusters.dc2.brokers,
      PEER_KAFKA_BROKERS: `dc1=${clusters.dc1.brokers}`,
      PORT: String(replicatorPort),
    });
    for (const dc of Object.values(dcs)) {
      await waitForHttp(`${dc.controlPlane}/healthz`, 120_000, 100);
      await waitForHttp(`${dc.gateway}/readyz`, 120_000, 100);
    }
    await waitForHttp(`http://127.0.0.1:${replicatorPort}/readyz`, 120_000, 100);
    progress('both DCs are up');

    const dc1 = new Client(dcs.dc1.controlPlane);
    await dc1.login(ADMIN.username, ADMIN.password);
    const gateways = [
      { label: 'dc1 gateway (same DC)', url: dcs.dc1.gateway },
      { label: 'dc2 gateway (replicated)', url: dcs.dc2.gateway },
    ];
    const results: (string | number)[][] = [];
    let dc2Publish: number[] = [];
    let dc2Revoke: number[] = [];

    // 1. Publish COUNT APIs, one after the other.
    progress(`publishing ${COUNT} APIs in dc1 at ${RATE}/s`);
    const publish = gateways.map(() => [] as number[]);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < COUNT; i++) {
      const started = Date.now();
      const context = `/prop${process.pid}/api${i}`;
      const { createApi } = await dc1.ok<{ createApi: { id: string } }>(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        {
          input: {
            name: `Propagation ${i}`,
            version: 'v1',
            context,
            upstreamUrls: [upstream.url],
            operations: [{ method: '*', path: '/*', auth: 'none' }],
          },
        },
      );
      await dc1.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: createApi.id });
      const at = Date.now();
      gateways.forEach((gateway, g) =>
        pending.push(until(`${gateway.url}${context}/v1/probe`, {}, (status) => status === 200).then((t) => void publish[g].push(t - at))),
      );
      await paced(started, i + 1, COUNT);
    }
    await Promise.all(pending.splice(0));
    gateways.forEach((gateway, g) => results.push(row(`publish -> ${gateway.label}`, publish[g])));
    dc2Publish = publish[1];

    // 2. COUNT keys, checked as working at both gateways, then revoked one after the other.
    progress(`generating ${COUNT} API keys`);
    const developer = new Client(dcs.dc1.controlPlane);
    await developer.signUp(`bench-dev-${process.pid}`, 'a bench developer password');
    const { createApplication } = await developer.ok<{ createApplication: { id: string } }>(
      `mutation { createApplication(input: { name: "Propagation" }) { id } }`,
    );
    const { createApi } = await dc1.ok<{ createApi: { id: string } }>(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Keyed', version: 'v1', context: `/prop${process.pid}/keyed`, upstreamUrls: [upstream.url] } },
    );
    await dc1.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: createApi.id });
    await developer.ok(`mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Unlimited") { id } }`, {
      app: createApplication.id,
      api: createApi.id,
    });
    const keys: { keyId: string; key: string }[] = [];
    for (let i = 0; i < COUNT; i++)
      keys.push(
        (
          await developer.ok<{ generateApiKey: { keyId: string; key: string } }>(
            `mutation($app: ID!) { generateApiKey(applicationId: $app) { keyId key } }`,
            { app: createApplication.id },
          )
        ).generateApiKey,
      );
    const keyedUrl = (gateway: string) => `${gateway}/prop${process.pid}/keyed/v1/probe`;
    for (const gateway of gateways)
      await Promise.all(keys.map(({ key }) => until(keyedUrl(gateway.url), { apikey: key }, (status) => status === 200)));
    progress(`revoking ${COUNT} API keys in dc1 at ${RATE}/s`);
    const revoke = gateways.map(() => [] as number[]);
    for (let i = 0; i < COUNT; i++) {
      const started = Date.now();
      await developer.ok(`mutation($key: ID!) { revokeApiKey(keyId: $key) }`, { key: keys[i].keyId });
      const at = Date.now();
      gateways.forEach((gateway, g) =>
        pending.push(
          until(keyedUrl(gateway.url), { apikey: keys[i].key }, (status) => status === 401).then((t) => void revoke[g].push(t - at)),
        ),
      );
      await paced(started, i + 1, COUNT);
    }
    await Promise.all(pending.splice(0));
    gateways.forEach((gateway, g) => results.push(row(`revoke -> ${gateway.label}`, revoke[g])));
    dc2Revoke = revoke[1];

    console.log(`\nPropagation of changes made in dc1 (${COUNT} each, one after the other at ${RATE}/s), ms until in effect\n`);
    printTable(['change -> where', 'n', 'p50 ms', 'p99 ms', 'max ms'], results);
    const worst = Math.max(percentile(dc2Publish, 0.99), percentile(dc2Revoke, 0.99));
    console.log(
      `\ndc2 p99: ${worst} ms (target < ${TARGET_P99_MS} ms): ${worst < TARGET_P99_MS ? 'met' : 'NOT met'}; ` +
        `the dc1 rows are the same-DC reference (no replicator on the way)`,
    );
  } finally {
    await Promise.all(running.map((child) => child.stop(10_000)));
    await Promise.all([clusters.dc1.stop(), clusters.dc2.stop()]);
    for (const name of Object.values(databases)) await dropDatabase(postgres.adminUrl, name).catch(() => undefined);
    await postgres.stop();
    await upstream.close();
  }
}

/** Polls `url` every 2 ms until `done(status)`; returns the time it became true. */
async function until(url: string, headers: Record<string, string>, done: (status: number) => boolean): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (done(response.status)) return Date.now();
    if (Date.now() > deadline) throw new Error(`${url} never reached the expected status (last ${response.status})`);
    await sleep(2);
  }
}

/** Waits until the `done`-th change is due at RATE per second; reports progress now and then. */
async function paced(started: number, done: number, total: number): Promise<void> {
  if (done % Math.max(1, Math.floor(total / 4)) === 0) progress(`  ${done} of ${total}`);
  const wait = 1000 / RATE - (Date.now() - started);
  if (wait > 0) await sleep(wait);
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function row(label: string, values: number[]): (string | number)[] {
  return [label, values.length, percentile(values, 0.5), percentile(values, 0.99), Math.max(...values)];
}

/** A GraphQL client of one control plane that remembers its token (the shared client takes it per call). */
class Client {
  private readonly client: GraphQlClient;
  private token?: string;
  constructor(url: string) {
    this.client = new GraphQlClient(url);
  }

  async login(username: string, password: string): Promise<void> {
    this.token = await this.client.login(username, password);
  }

  async signUp(username: string, password: string): Promise<void> {
    this.token = await this.client.signUp(username, password);
  }

  ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return this.client.ok<T>(query, variables, this.token);
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
