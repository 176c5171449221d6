import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { replicatorEnv } from '../../tools/infra/app-process';
import { freePort } from '../../tools/infra/free-port';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { repoRoot } from '../../tools/infra/repo-root';
import { startAppProcess, TEST_SECRET_KEY, waitForHttp } from './apps';
import { ControlPlane } from './control-plane';
import { TestDatabase } from './databases';
import { eventually, RunningGateway, startGateway, startUpstream } from './gateway';

export type Dc = 'dc1' | 'dc2';
const PEER: Record<Dc, Dc> = { dc1: 'dc2', dc2: 'dc1' };
const DCS: Dc[] = ['dc1', 'dc2'];

export const ADMIN = { username: 'sre-admin', password: 'a long enough admin password' };

/**
 * Two DCs of a test's own: a Kafka cluster, a database, a control plane and a
 * replicator (pulling from the other DC) each, and gateways on demand, all real
 * processes. The shared test clusters are not used: DCs here are stopped and
 * restarted, and their topics must hold this world's events only.
 */
export class TwoDcWorld {
  readonly clusters: Record<Dc, KafkaCluster>;
  readonly dbs = {} as Record<Dc, TestDatabase>;
  readonly cps = {} as Record<Dc, ControlPlane>;
  readonly replicators = {} as Record<Dc, { process: GuardedProcess; url: string }>;
  readonly gateways: (RunningGateway & { dc: Dc })[] = [];
  readonly logDir: string;

  constructor(
    readonly name: string,
    private readonly cpEnv: Record<string, string> = {},
  ) {
    this.logDir = join(repoRoot(), '.run', 'test', `${name}-${process.pid}`);
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
    this.clusters = {
      dc1: new KafkaCluster({ name: `${name}-dc1`, dataDir: join(this.logDir, 'kafka-dc1'), heap: '384m' }),
      dc2: new KafkaCluster({ name: `${name}-dc2`, dataDir: join(this.logDir, 'kafka-dc2'), heap: '384m' }),
    };
  }

  async start(): Promise<void> {
    await Promise.all([this.clusters.dc1.start(), this.clusters.dc2.start()]);
    for (const dc of ['dc1', 'dc2'] as Dc[]) this.dbs[dc] = await TestDatabase.create(`${this.name}_${dc}`);
    await Promise.all((['dc1', 'dc2'] as Dc[]).map((dc) => this.startControlPlane(dc)));
    await Promise.all((['dc1', 'dc2'] as Dc[]).map((dc) => this.startReplicator(dc)));
  }

  brokers(dc: Dc): string {
    return this.clusters[dc].brokers;
  }

  /** A control plane of `dc`'s environment, but for its database and port. */
  controlPlaneEnv(dc: Dc): Record<string, string> {
    return {
      DC_ID: dc,
      PEER_DCS: PEER[dc],
      KAFKA_BROKERS: this.brokers(dc),
      PRIMARY_DC: 'dc1',
      APIM_ADMIN_USER: ADMIN.username,
      APIM_ADMIN_PASSWORD: ADMIN.password,
      ...this.cpEnv,
    };
  }

  async startControlPlane(dc: Dc): Promise<ControlPlane> {
    const cp = new ControlPlane(this.dbs[dc], join(this.logDir, `cp-${dc}.log`), this.controlPlaneEnv(dc));
    this.cps[dc] = cp;
    await cp.start();
    return cp;
  }

  async startReplicator(dc: Dc): Promise<void> {
    const port = await freePort();
    const process = startAppProcess(
      'replicator',
      {
        ...replicatorEnv(dc, this.brokers(dc), PEER[dc], this.brokers(PEER[dc]), port),
        HEARTBEAT_INTERVAL_MS: '500',
        TOPOLOGY_REFRESH_MS: '500',
      },
      join(this.logDir, `replicator-${dc}.log`),
    );
    const url = `http://127.0.0.1:${port}`;
    this.replicators[dc] = { process, url };
    await waitForHttp(`${url}/healthz`);
  }

  async startGateway(dc: Dc, name: string): Promise<RunningGateway> {
    const gateway = await startGateway(
      {
        DC_ID: dc,
        PEER_DCS: PEER[dc],
        KAFKA_BROKERS: this.brokers(dc),
        GATEWAY_ID: `${this.name}-${name}`,
        HEARTBEAT_INTERVAL_SECONDS: '1',
      },
      `${this.name}-${name}`,
    );
    this.gateways.push({ ...gateway, dc });
    return gateway;
  }

  /**
   * Logs in at `dc` once the user's stream has reached that DC's store.
   * Polling `login` instead counts failed logins, and the control plane's
   * login throttle then refuses the right password for minutes.
   */
  async loginWhenReplicated(dc: Dc, username: string, password: string): Promise<string> {
    const stream = `user:${username.toLowerCase()}`;
    await eventually(
      async () => expect(await this.query(dc, `SELECT 1 FROM events WHERE stream_id = $1`, [stream])).not.toHaveLength(0),
      60_000,
      250,
    );
    return this.cps[dc].login(username, password);
  }

  /** Runs SQL against one DC's database (the test reads stores and read models directly to compare the DCs). */
  async query<T>(dc: Dc, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.dbs[dc].url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Waits until `sql` returns the same rows in both DCs' databases (`what` names it in a failure). */
  async eventuallyEqual(what: string, sql: string, options: { nonEmpty?: boolean } = {}): Promise<void> {
    await eventually(
      async () => {
        const [a, b] = await Promise.all([this.query(DCS[0], sql), this.query(DCS[1], sql)]);
        if (options.nonEmpty) expect({ what, empty: a.length === 0 }).toEqual({ what, empty: false });
        expect({ what, rows: a }).toEqual({ what, rows: b });
      },
      60_000,
      250,
    );
  }

  /** Both stores hold the same events (ids, streams, versions, origins, epochs, payloads), row for row. */
  eventuallyEqualEvents(): Promise<void> {
    return this.eventuallyEqual(
      'events',
      `SELECT event_id::text, stream_id, version, type, origin_dc, epoch, payload FROM events ORDER BY event_id`,
    );
  }

  /**
   * `dc` is lost for good: its processes stop, its Kafka cluster stops and its
   * data is deleted, its database is dropped. `rebuild` brings up empty ones
   * in their place (the same broker address, a new cluster id).
   */
  async destroy(dc: Dc): Promise<void> {
    const gateways = this.gateways.filter((gateway) => gateway.dc === dc);
    await Promise.all([
      this.cps[dc]?.process?.stop(10_000),
      this.replicators[dc]?.process.stop(10_000),
      ...gateways.map((gateway) => gateway.process.stop(10_000)),
    ]);
    await this.clusters[dc].stop();
    rmSync(this.clusters[dc].dataDir, { recursive: true, force: true });
    await this.dbs[dc].drop();
  }

  async rebuild(dc: Dc): Promise<void> {
    await this.clusters[dc].start();
    this.dbs[dc] = await TestDatabase.create(`${this.name}_${dc}_rebuilt`);
  }

  /** Runs `npm run dc:restore`'s script for `dc` as an SRE would, with the control plane's and the replicator's environment. */
  async restore(
    dc: Dc,
    args: string[] = [],
    overrides: Record<string, string> = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env = {
      ...this.controlPlaneEnv(dc),
      DATABASE_URL: this.dbs[dc].url,
      APIM_SECRET_KEY: TEST_SECRET_KEY,
      PEER_KAFKA_BROKERS: `${PEER[dc]}=${this.brokers(PEER[dc])}`,
      ...overrides,
    };
    return runCompiled(['scripts', 'dc-restore.js'], args, env, 180_000);
  }

  /** The last lines of every log, for a failed test's output. */
  logTails(bytes = 2500): string {
    const files = ['cp-dc1.log', 'cp-dc2.log', 'replicator-dc1.log', 'replicator-dc2.log'];
    return files
      .map((file) => {
        try {
          return `--- ${file}\n${readFileSync(join(this.logDir, file), 'utf8').slice(-bytes)}`;
        } catch {
          return `--- ${file}: none`;
        }
      })
      .join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([
      ...Object.values(this.cps).map((cp) => cp.process?.stop(10_000)),
      ...Object.values(this.replicators).map((r) => r.process.stop(10_000)),
      ...this.gateways.map((g) => g.process.stop(10_000)),
    ]);
    await Promise.all([this.clusters.dc1.stop(), this.clusters.dc2.stop()]);
    await Promise.all(Object.values(this.dbs).map((db) => db.drop().catch(() => undefined)));
  }
}

/** Runs the compiled apimctl as a subprocess (as an SRE would), against both DCs' control planes. */
export async function apimctl(
  world: TwoDcWorld,
  args: string[],
  endpoints = `dc1=${world.cps.dc1.url},dc2=${world.cps.dc2.url}`,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCompiled(
    ['apps', 'apimctl', 'src', 'main.js'],
    ['--endpoints', endpoints, '--timeout', '3000', ...args],
    { APIMCTL_USER: ADMIN.username, APIMCTL_PASSWORD: ADMIN.password },
    60_000,
  );
}

/** Runs a compiled script of dist/ as a subprocess with only `PATH` and `env`, and returns its exit code and output. */
async function runCompiled(
  path: string[],
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot(), 'dist', ...path), ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/**
 * A spec's two DCs and upstream server, started before its tests and stopped
 * after them; every log's tail is printed when fewer than `tests` of its tests
 * called `passed()`.
 */
export function twoDcSpec(
  name: string,
  tests: number,
  cpEnv: Record<string, string> = {},
): { world: TwoDcWorld; upstream: () => Upstream; passed: () => void } {
  const world = new TwoDcWorld(name, cpEnv);
  let upstream: Upstream | undefined;
  let passed = 0;
  beforeAll(async () => {
    upstream = await startUpstream();
    await world.start();
  }, 240_000);
  afterAll(async () => {
    if (passed < tests) console.error(world.logTails());
    await world.stop();
    await upstream?.close();
  }, 120_000);
  return { world, upstream: () => upstream!, passed: () => void passed++ };
}
