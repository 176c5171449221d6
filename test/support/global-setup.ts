import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { resolvePostgres } from '../../tools/infra/postgres';
import { repoRoot } from '../../tools/infra/repo-root';
import { TEST_ENV, TestInfra } from './test-env';

/**
 * Starts what every integration test shares: two Kafka clusters (dc1, dc2) and
 * a PostgreSQL server, unless `KAFKA_BROKERS_DC1` / `KAFKA_BROKERS_DC2` and
 * `DATABASE_URL` name existing ones. Unit-only runs (`npm run test:unit`) skip it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.APIM_UNIT_ONLY === '1') return;
  const runDir = join(repoRoot(), '.run', 'test');
  mkdirSync(runDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`[infra] ${line}\n`);

  const clusters: KafkaCluster[] = [];
  const brokers: Record<string, string> = {};
  for (const dc of ['dc1', 'dc2']) {
    const given = process.env[`KAFKA_BROKERS_${dc.toUpperCase()}`];
    if (given) {
      brokers[dc] = given;
      continue;
    }
    const cluster = new KafkaCluster({ name: `test-${dc}`, dataDir: join(runDir, `kafka-${dc}-${process.pid}`), heap: '512m', log });
    clusters.push(cluster);
  }
  const state = globalThis as unknown as { __apimInfra?: TestInfra };
  const postgres = await resolvePostgres({ dataDir: join(runDir, 'postgres'), log });
  state.__apimInfra = { clusters, postgres };
  const stopOnSignal = (signal: NodeJS.Signals) => {
    void Promise.all(clusters.map((c) => c.stop(5000))).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  await Promise.all(clusters.map((c) => c.start()));
  for (const cluster of clusters) brokers[cluster.name.replace('test-', '')] = cluster.brokers;
  process.env[TEST_ENV.kafkaDc1] = brokers.dc1;
  process.env[TEST_ENV.kafkaDc2] = brokers.dc2;
  process.env[TEST_ENV.postgresAdminUrl] = postgres.adminUrl;
  log(`kafka dc1=${brokers.dc1} dc2=${brokers.dc2}, postgres from ${postgres.source}`);
}
