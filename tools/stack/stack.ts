import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource, runMigrationsLocked } from '../../apps/control-plane/src/infrastructure/database/data-source';
import { isListening } from '../infra/free-port';
import { AppName, startAppProcess } from '../infra/app-process';
import { GuardedProcess } from '../infra/guarded-process';
import { KafkaCluster } from '../infra/kafka-cluster';
import { createDatabase, dropDatabase, PostgresServer, resolvePostgres } from '../infra/postgres';
import { DemoSeed, seedDemo, waitUntilRoutable } from './demo.seed';
import { DEFAULT_UPSTREAM_PORT, SampleUpstream, startSampleUpstream } from './sample-upstream';

/** Ports of one DC of the local topology (DESIGN.md section 10). */
export interface DcLayout {
  dc: string;
  /** Kafka's client and controller ports; 0 lets the launcher pick free ones (tests). */
  kafkaPort: number;
  controllerPort: number;
  controlPlanePort: number;
  gatewayPort: number;
  replicatorPort: number;
  database: string;
}

export const DEFAULT_LAYOUT: DcLayout[] = [
  {
    dc: 'dc1',
    kafkaPort: 19092,
    controllerPort: 19093,
    controlPlanePort: 4000,
    gatewayPort: 8080,
    replicatorPort: 9090,
    database: 'apim_dc1',
  },
  {
    dc: 'dc2',
    kafkaPort: 29092,
    controllerPort: 29093,
    controlPlanePort: 4100,
    gatewayPort: 8180,
    replicatorPort: 9190,
    database: 'apim_dc2',
  },
];

/** The first ADMIN of a local stack, unless APIM_ADMIN_USER / APIM_ADMIN_PASSWORD say otherwise. */
export const DEFAULT_ADMIN = { username: 'admin', password: 'admin-password-change-me' };

export interface LocalStackOptions {
  runDir: string;
  layout?: DcLayout[];
  log: (line: string) => void;
  /** The sample upstream's port (default 7070); 0 picks a free one. */
  upstreamPort?: number;
  /** Where the description is written (default `<runDir>/../stack.json`: `.run/stack.json` for `npm start`, where apimctl looks). */
  descriptionFile?: string;
  /** Use the clusters named by `KAFKA_BROKERS_<DC>` when set (default). A test that stops a DC's Kafka needs its own. */
  kafkaFromEnv?: boolean;
  /** The first ADMIN (default: APIM_ADMIN_USER / APIM_ADMIN_PASSWORD, else DEFAULT_ADMIN). */
  admin?: { username: string; password: string };
}

export interface StackDescription {
  startedAt: string;
  postgres: string;
  upstream: string;
  admin: string;
  dcs: {
    dc: string;
    kafka: string;
    database: string;
    controlPlane: string;
    graphql: string;
    gateway: string;
    replicator: string;
    pids: Record<string, number | undefined>;
  }[];
  /** The seeded demo (ids only: the key is in `keyFile`, mode 0600). */
  demo?: {
    api: DemoSeed['api'];
    path: string;
    developer: string;
    applicationId: string;
    tier: string;
    keyId: string;
    keyFile: string;
  };
}

interface RunningApp {
  dc: string;
  app: AppName;
  port: number;
  env: Record<string, string>;
  process: GuardedProcess;
}

/**
 * The local multi-DC deployment: per DC a Kafka cluster (or the one named by
 * `KAFKA_BROKERS_<DC>`), a database, and the three apps; a sample upstream;
 * and a demo seeded through the public GraphQL API (an API, a developer, an
 * application, a subscription and a key), routable at every DC's gateway when
 * `start()` returns. Everything it starts it stops by pid in `stop()`, and it
 * dies with this process at the latest.
 */
export class LocalStack {
  private readonly clusters: KafkaCluster[] = [];
  private readonly apps: RunningApp[] = [];
  private readonly brokers = new Map<string, string>();
  private postgres?: PostgresServer;
  private upstream?: SampleUpstream;
  private stopping = false;
  readonly layout: DcLayout[];
  readonly admin: { username: string; password: string };
  description?: StackDescription;
  /** The seeded demo, key included (for the process that started the stack only). */
  demo?: DemoSeed;

  constructor(private readonly options: LocalStackOptions) {
    this.layout = options.layout ?? DEFAULT_LAYOUT;
    this.admin = options.admin ?? adminFromEnv();
  }

  get descriptionFile(): string {
    return this.options.descriptionFile ?? join(this.options.runDir, '..', 'stack.json');
  }

  /** The file (mode 0600) that keeps the demo's developer password and key across starts. */
  get demoFile(): string {
    return join(this.options.runDir, 'demo.json');
  }

  async start(): Promise<StackDescription> {
    const { runDir, log } = this.options;
    const layout = this.layout;
    mkdirSync(join(runDir, 'logs'), { recursive: true });

    await this.refuseTakenPorts(layout);
    this.upstream = await startSampleUpstream(this.options.upstreamPort ?? DEFAULT_UPSTREAM_PORT);
    log(`sample upstream on ${this.upstream.url}`);
    this.postgres = await resolvePostgres({ dataDir: join(runDir, 'postgres'), log });
    log(`PostgreSQL: ${this.postgres.source}`);

    for (const dc of layout) {
      const given = this.options.kafkaFromEnv === false ? undefined : process.env[`KAFKA_BROKERS_${dc.dc.toUpperCase()}`];
      if (given) {
        this.brokers.set(dc.dc, given);
        log(`Kafka ${dc.dc}: ${given} (KAFKA_BROKERS_${dc.dc.toUpperCase()})`);
        continue;
      }
      const cluster = new KafkaCluster({
        name: dc.dc,
        dataDir: join(runDir, `kafka-${dc.dc}`),
        port: dc.kafkaPort,
        controllerPort: dc.controllerPort,
        heap: '512m',
        log,
      });
      this.clusters.push(cluster);
    }
    await Promise.all(this.clusters.map((cluster) => cluster.start()));
    for (const cluster of this.clusters) this.brokers.set(cluster.name, cluster.brokers);

    const databases = new Map<string, string>();
    for (const dc of layout) {
      // A new run directory means a new secret key, and a database sealed with the old one is of no use: start it afresh too.
      const fresh = !existsSync(secretKeyFile(runDir, dc.dc));
      const url = await createDatabase(this.postgres.adminUrl, dc.database, { recreate: fresh });
      const dataSource = await createDataSource(url, { poolSize: 1, applicationName: 'apim-stack-migrations' }).initialize();
      const applied = await runMigrationsLocked(dataSource);
      await dataSource.destroy();
      log(`database ${dc.database}${fresh ? ' (new)' : ''}: ${applied.length} migration(s) applied`);
      databases.set(dc.dc, url);
    }

    for (const dc of layout) {
      const peers = layout.filter((other) => other.dc !== dc.dc);
      const common = { DC_ID: dc.dc, KAFKA_BROKERS: this.brokers.get(dc.dc)!, PEER_DCS: peers.map((p) => p.dc).join(',') };
      this.launch(dc.dc, 'control-plane', dc.controlPlanePort, {
        ...common,
        DATABASE_URL: databases.get(dc.dc)!,
        APIM_SECRET_KEY: localSecretKey(runDir, dc.dc),
        APIM_ADMIN_USER: this.admin.username,
        APIM_ADMIN_PASSWORD: this.admin.password,
      });
      this.launch(dc.dc, 'gateway-worker', dc.gatewayPort, { ...common, SNAPSHOT_FILE: join(runDir, `gateway-${dc.dc}.snapshot.json`) });
      this.launch(dc.dc, 'replicator', dc.replicatorPort, {
        ...common,
        PEER_KAFKA_BROKERS: peers.map((p) => `${p.dc}=${this.brokers.get(p.dc)}`).join(';'),
      });
    }
    for (const dc of layout) await this.waitForApps(dc.dc);

    this.describe();
    const [first] = layout;
    log(`seeding the demo through ${first.dc}'s GraphQL API`);
    this.demo = await seedDemo({
      controlPlanes: layout.map((dc) => ({ dc: dc.dc, url: `http://127.0.0.1:${dc.controlPlanePort}` })),
      upstreamUrl: this.upstream.url,
      admin: this.admin,
      stateFile: this.demoFile,
      log,
    });
    log(`waiting until every gateway routes ${this.demo.path} (dc2's through replication)`);
    await waitUntilRoutable(
      layout.map((dc) => ({ dc: dc.dc, url: `http://127.0.0.1:${dc.gatewayPort}` })),
      this.demo.path,
      this.demo.key,
      log,
    );
    return this.describe();
  }

  /** Stops the apps and the sample upstream, then the Kafka clusters (and an embedded PostgreSQL), each by its pid. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.apps.map((a) => a.process.stop(10_000)), this.upstream?.close()]);
    await Promise.all(this.clusters.map((c) => c.stop()));
    await this.postgres?.stop();
  }

  /**
   * A lost DC: its apps are killed (SIGKILL) and its Kafka cluster too (no
   * grace period), the databases and data folders stay. Only for clusters this
   * stack started.
   */
  async killDc(dc: string): Promise<void> {
    const apps = this.apps.filter((a) => a.dc === dc);
    for (const app of apps) app.process.kill('SIGKILL');
    await Promise.all(apps.map((a) => a.process.exited));
    await this.cluster(dc).stop(0);
  }

  /** Brings a DC back after `killDc`: its Kafka cluster, then its apps, on the same ports; waits until they answer. */
  async restartDc(dc: string): Promise<void> {
    await this.cluster(dc).start();
    for (const app of this.apps.filter((a) => a.dc === dc && !a.process.running))
      app.process = startAppProcess(app.app, app.env, this.logFile(app.dc, app.app));
    await this.waitForApps(dc);
    this.describe();
  }

  /** Drops the stack's databases (a test's own; `npm start` keeps them). */
  async dropDatabases(): Promise<void> {
    if (!this.postgres) return;
    for (const dc of this.layout) await dropDatabase(this.postgres.adminUrl, dc.database);
  }

  private cluster(dc: string): KafkaCluster {
    const cluster = this.clusters.find((c) => c.name === dc);
    if (!cluster) throw new Error(`${dc}'s Kafka was not started by this stack`);
    return cluster;
  }

  private launch(dc: string, app: AppName, port: number, env: Record<string, string>): void {
    if (this.stopping) throw new Error('the stack is stopping');
    const withPort = { ...env, PORT: String(port) };
    this.apps.push({ dc, app, port, env: withPort, process: startAppProcess(app, withPort, this.logFile(dc, app)) });
  }

  private logFile(dc: string, app: AppName): string {
    return join(this.options.runDir, 'logs', `${dc}-${app}.log`);
  }

  private async waitForApps(dc: string): Promise<void> {
    for (const app of this.apps.filter((a) => a.dc === dc)) {
      await this.waitForHealth(app);
      this.options.log(`${dc} ${app.app} healthy on :${app.port}`);
    }
  }

  private async waitForHealth(entry: RunningApp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.stopping) throw new Error('the stack is stopping');
      if (!entry.process.running)
        throw new Error(`${entry.dc} ${entry.app} exited during start-up; see ${this.logFile(entry.dc, entry.app)}`);
      try {
        const response = await fetch(`http://127.0.0.1:${entry.port}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${entry.dc} ${entry.app} did not answer /healthz on :${entry.port} within ${timeoutMs} ms`);
  }

  /** Writes the description file (endpoints, pids, the demo's ids) and returns it. */
  private describe(): StackDescription {
    this.description = {
      startedAt: this.description?.startedAt ?? new Date().toISOString(),
      postgres: this.postgres!.source,
      upstream: this.upstream!.url,
      admin: this.admin.username,
      dcs: this.layout.map((dc) => ({
        dc: dc.dc,
        kafka: this.brokers.get(dc.dc)!,
        database: dc.database,
        controlPlane: `http://127.0.0.1:${dc.controlPlanePort}`,
        graphql: `http://127.0.0.1:${dc.controlPlanePort}/graphql`,
        gateway: `http://127.0.0.1:${dc.gatewayPort}`,
        replicator: `http://127.0.0.1:${dc.replicatorPort}`,
        pids: Object.fromEntries([
          ...this.clusters.filter((c) => c.name === dc.dc).map((c) => [`kafka`, c.pid]),
          ...this.apps.filter((a) => a.dc === dc.dc).map((a) => [a.app, a.process.pid]),
        ]),
      })),
      demo: this.demo && {
        api: this.demo.api,
        path: this.demo.path,
        developer: this.demo.developer.username,
        applicationId: this.demo.applicationId,
        tier: this.demo.tier,
        keyId: this.demo.keyId,
        keyFile: this.demoFile,
      },
    };
    writeFileSync(this.descriptionFile, `${JSON.stringify(this.description, null, 2)}\n`);
    return this.description;
  }

  private async refuseTakenPorts(layout: DcLayout[]): Promise<void> {
    const wanted = [
      ...layout.flatMap((dc) => [
        ...(this.options.kafkaFromEnv !== false && process.env[`KAFKA_BROKERS_${dc.dc.toUpperCase()}`]
          ? []
          : [dc.kafkaPort, dc.controllerPort]),
        dc.controlPlanePort,
        dc.gatewayPort,
        dc.replicatorPort,
      ]),
      this.options.upstreamPort ?? DEFAULT_UPSTREAM_PORT,
    ].filter((port) => port !== 0);
    const taken = [];
    for (const port of wanted) if (await isListening(port)) taken.push(port);
    if (taken.length > 0) throw new Error(`ports already in use: ${taken.join(', ')} (is another stack running? stop it first)`);
  }
}

function adminFromEnv(): { username: string; password: string } {
  return {
    username: process.env.APIM_ADMIN_USER ?? DEFAULT_ADMIN.username,
    password: process.env.APIM_ADMIN_PASSWORD ?? DEFAULT_ADMIN.password,
  };
}

function secretKeyFile(runDir: string, dc: string): string {
  return join(runDir, `secret-key-${dc}`);
}

/**
 * The key that seals a local DC's signing keys: generated once and kept in
 * the run directory (mode 0600), since its database outlives one `npm start`.
 */
function localSecretKey(runDir: string, dc: string): string {
  const file = secretKeyFile(runDir, dc);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
