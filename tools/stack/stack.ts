import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDataSource, runMigrationsLocked } from '../../apps/control-plane/src/infrastructure/database/data-source';
import { isListening } from '../infra/free-port';
import { AppName, startAppProcess } from '../infra/app-process';
import { GuardedProcess } from '../infra/guarded-process';
import { KafkaCluster } from '../infra/kafka-cluster';
import { createDatabase, PostgresServer, resolvePostgres } from '../infra/postgres';

/** Ports of one DC of the local topology (DESIGN.md section 10). */
export interface DcLayout {
  dc: string;
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

export interface StackDescription {
  startedAt: string;
  postgres: string;
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
}

/**
 * The local multi-DC deployment: per DC a Kafka cluster (or the one named by
 * `KAFKA_BROKERS_<DC>`), a database, and the three apps. Everything it starts
 * it stops by pid in `stop()`, and dies with this process at the latest.
 */
export class LocalStack {
  private readonly clusters: KafkaCluster[] = [];
  private readonly apps: { dc: string; app: AppName; process: GuardedProcess }[] = [];
  private postgres?: PostgresServer;
  description?: StackDescription;

  constructor(private readonly options: { runDir: string; layout?: DcLayout[]; log: (line: string) => void }) {}

  async start(): Promise<StackDescription> {
    const { runDir, log } = this.options;
    const layout = this.options.layout ?? DEFAULT_LAYOUT;
    mkdirSync(join(runDir, 'logs'), { recursive: true });

    await this.refuseTakenPorts(layout);
    this.postgres = await resolvePostgres({ dataDir: join(runDir, 'postgres'), log });
    log(`PostgreSQL: ${this.postgres.source}`);

    const brokers = new Map<string, string>();
    for (const dc of layout) {
      const given = process.env[`KAFKA_BROKERS_${dc.dc.toUpperCase()}`];
      if (given) {
        brokers.set(dc.dc, given);
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
    for (const cluster of this.clusters) brokers.set(cluster.name, cluster.brokers);

    const databases = new Map<string, string>();
    for (const dc of layout) {
      const url = await createDatabase(this.postgres.adminUrl, dc.database);
      const dataSource = await createDataSource(url, { poolSize: 1 }).initialize();
      const applied = await runMigrationsLocked(dataSource);
      await dataSource.destroy();
      log(`database ${dc.database}: ${applied.length} migration(s) applied`);
      databases.set(dc.dc, url);
    }

    for (const dc of layout) {
      const peers = layout.filter((other) => other.dc !== dc.dc);
      const common = { DC_ID: dc.dc, KAFKA_BROKERS: brokers.get(dc.dc)!, PEER_DCS: peers.map((p) => p.dc).join(',') };
      this.launch(dc.dc, 'control-plane', {
        ...common,
        PORT: String(dc.controlPlanePort),
        DATABASE_URL: databases.get(dc.dc)!,
        APIM_SECRET_KEY: localSecretKey(runDir, dc.dc),
        APIM_ADMIN_USER: process.env.APIM_ADMIN_USER ?? 'admin',
        APIM_ADMIN_PASSWORD: process.env.APIM_ADMIN_PASSWORD ?? 'admin-password-change-me',
      });
      this.launch(dc.dc, 'gateway-worker', {
        ...common,
        PORT: String(dc.gatewayPort),
        SNAPSHOT_FILE: join(runDir, `gateway-${dc.dc}.snapshot.json`),
      });
      this.launch(dc.dc, 'replicator', {
        ...common,
        PORT: String(dc.replicatorPort),
        PEER_KAFKA_BROKERS: peers.map((p) => `${p.dc}=${brokers.get(p.dc)}`).join(';'),
      });
    }
    for (const dc of layout) {
      for (const [app, port] of [
        ['control-plane', dc.controlPlanePort],
        ['gateway-worker', dc.gatewayPort],
        ['replicator', dc.replicatorPort],
      ] as const) {
        await this.waitForHealth(dc.dc, app, port);
        log(`${dc.dc} ${app} healthy on :${port}`);
      }
    }

    this.description = {
      startedAt: new Date().toISOString(),
      postgres: this.postgres.source,
      dcs: layout.map((dc) => ({
        dc: dc.dc,
        kafka: brokers.get(dc.dc)!,
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
    };
    writeFileSync(join(runDir, '..', 'stack.json'), `${JSON.stringify(this.description, null, 2)}\n`);
    return this.description;
  }

  /** Stops the apps, then the Kafka clusters (and an embedded PostgreSQL), each by its pid. */
  async stop(): Promise<void> {
    await Promise.all(this.apps.map((a) => a.process.stop(10_000)));
    await Promise.all(this.clusters.map((c) => c.stop()));
    await this.postgres?.stop();
  }

  private launch(dc: string, app: AppName, env: Record<string, string>): void {
    const logFile = join(this.options.runDir, 'logs', `${dc}-${app}.log`);
    this.apps.push({ dc, app, process: startAppProcess(app, env, logFile) });
  }

  private async waitForHealth(dc: string, app: AppName, port: number, timeoutMs = 60_000): Promise<void> {
    const entry = this.apps.find((a) => a.dc === dc && a.app === app)!;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!entry.process.running)
        throw new Error(`${dc} ${app} exited during start-up; see ${join(this.options.runDir, 'logs', `${dc}-${app}.log`)}`);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${dc} ${app} did not answer /healthz on :${port} within ${timeoutMs} ms`);
  }

  private async refuseTakenPorts(layout: DcLayout[]): Promise<void> {
    const wanted = layout.flatMap((dc) => [
      ...(process.env[`KAFKA_BROKERS_${dc.dc.toUpperCase()}`] ? [] : [dc.kafkaPort, dc.controllerPort]),
      dc.controlPlanePort,
      dc.gatewayPort,
      dc.replicatorPort,
    ]);
    const taken = [];
    for (const port of wanted) if (await isListening(port)) taken.push(port);
    if (taken.length > 0) throw new Error(`ports already in use: ${taken.join(', ')} (is another stack running? stop it first)`);
  }
}

/**
 * The key that seals a local DC's signing keys: generated once and kept in
 * the run directory (mode 0600), since its database outlives one `npm start`.
 */
function localSecretKey(runDir: string, dc: string): string {
  const file = join(runDir, `secret-key-${dc}`);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}
