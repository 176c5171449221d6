import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { createKafka, ensureTopics, TOPICS } from '@apim/events';
import { freePort } from '../../tools/infra/free-port';
import { startAppProcess } from '../../tools/infra/app-process';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { KafkaCluster } from '../../tools/infra/kafka-cluster';
import { repoRoot } from '../../tools/infra/repo-root';
import { waitForHttp } from '../../tools/infra/wait-for-http';

/** Readiness and warm-up polls: often, since the cold-start figure is measured across one. */
export const waitFor200 = (url: string) => waitForHttp(url, 120_000, 20);

export function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export const progress = (line: string) => process.stderr.write(`${line}\n`);

/** KAFKA_BROKERS_DC1 when given, else a single-broker cluster of the bench's own under `dir`. */
export async function benchKafka(dir: string): Promise<{ brokers: string; kafka: Kafka; stop: () => Promise<void> }> {
  let cluster: KafkaCluster | undefined;
  let brokers = process.env.KAFKA_BROKERS_DC1;
  if (!brokers) {
    cluster = new KafkaCluster({ name: 'bench', dataDir: join(dir, 'kafka'), heap: '512m', log: progress });
    await cluster.start();
    brokers = cluster.brokers;
  }
  const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench' });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [TOPICS.events, TOPICS.analytics, TOPICS.heartbeats, TOPICS.dlq]).finally(() => admin.disconnect());
  return { brokers, kafka, stop: async () => cluster?.stop() };
}

/** The compiled gateway as its own process, on a free port. */
export async function benchGateway(env: Record<string, string>): Promise<{ process: GuardedProcess; port: number; url: string }> {
  const port = await freePort();
  const logDir = join(repoRoot(), '.run', 'bench');
  mkdirSync(logDir, { recursive: true });
  // APIM_BENCH_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, to look inside the gateway during a run.
  const nodeArgs = (process.env.APIM_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = startAppProcess(
    'gateway-worker',
    { DC_ID: 'dc1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    join(logDir, `gateway-${port}.log`),
    nodeArgs,
  );
  return { process: child, port, url: `http://127.0.0.1:${port}` };
}

/** Prints rows as an aligned text table on stdout. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}
