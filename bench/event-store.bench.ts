/**
 * Event store and outbox relay throughput, against references measured in the same run:
 * - append: PostgresEventStore.append (one event per call, expected version checked)
 *   vs a plain INSERT loop of the same rows into a table without constraints;
 * - relay: OutboxRelay publishing the appended events to Kafka vs a bare kafkajs
 *   producer sending the same records.
 * Usage: npm run bench:event-store [-- --events 5000]
 * Uses DATABASE_URL / localhost:5432 and KAFKA_BROKERS_DC1, or starts its own Kafka.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { createKafka, encodeEvent, JsonLogger } from '@apim/events';
import { createDataSource } from '../apps/control-plane/src/infrastructure/database/data-source';
import { toEnvelope } from '../apps/control-plane/src/infrastructure/event-store/event-store';
import { PostgresEventStore } from '../apps/control-plane/src/infrastructure/event-store/postgres-event-store';
import { OutboxRelay } from '../apps/control-plane/src/infrastructure/outbox/outbox-relay';
import { KafkaCluster } from '../tools/infra/kafka-cluster';
import { createDatabase, dropDatabase, resolvePostgres } from '../tools/infra/postgres';
import { argument } from './support/bench-infra';

const EVENTS = Number(argument('--events') ?? 5000);
const context = { originDc: 'dc1', epoch: 1, correlationId: 'bench', actor: 'bench' };
const payload = (i: number) => ({ name: `P${i}`, requestsPerMinute: 100, burst: 10, unlimited: false });

async function timed(label: string, work: () => Promise<unknown>): Promise<number> {
  process.stderr.write(`  ${label}...`);
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(` ${(EVENTS / seconds).toFixed(0)}/s\n`);
  return EVENTS / seconds;
}

/** Splits EVENTS over `writers` concurrent loops. */
async function concurrently(writers: number, write: (writer: number, i: number) => Promise<unknown>): Promise<void> {
  const per = Math.ceil(EVENTS / writers);
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < per && w * per + i < EVENTS; i++) await write(w, i);
    }),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apim-bench-'));
  const postgres = await resolvePostgres({ dataDir: join(dir, 'pg') });
  const dbName = `apim_bench_${process.pid}`;
  const url = await createDatabase(postgres.adminUrl, dbName, { recreate: true });
  let cluster: KafkaCluster | undefined;
  let brokers = process.env.KAFKA_BROKERS_DC1;
  if (!brokers) {
    cluster = new KafkaCluster({ name: 'bench', dataDir: join(dir, 'kafka'), log: (l) => process.stderr.write(`${l}\n`) });
    await cluster.start();
    brokers = cluster.brokers;
  }
  const dataSource: DataSource = await createDataSource(url, { poolSize: 10 }).initialize();
  try {
    await dataSource.runMigrations();
    await dataSource.query(`CREATE TABLE plain_events (LIKE events INCLUDING DEFAULTS)`);
    const store = new PostgresEventStore(dataSource);
    const rows: [string, number, number][] = [];
    console.error(`event store benchmark: ${EVENTS} events per row, PostgreSQL from ${postgres.source}, Kafka ${brokers}`);

    for (const writers of [1, 8]) {
      const reference = await timed(`plain INSERT, ${writers} writer(s)`, () =>
        concurrently(writers, (w, i) =>
          dataSource.query(
            `INSERT INTO plain_events (event_id, stream_id, stream_type, version, type, schema_version, payload, metadata, origin_dc, epoch, occurred_at)
             VALUES (gen_random_uuid(), $1, 'policy', $2, 'policy.created', 1, $3, $4, 'dc1', 1, now())`,
            [
              `plain-${writers}-${w}`,
              i + 1,
              JSON.stringify(payload(i)),
              JSON.stringify({ correlationId: 'bench', causationId: null, actor: 'bench' }),
            ],
          ),
        ),
      );
      const ours = await timed(`event store append, ${writers} writer(s)`, () =>
        concurrently(writers, (w, i) =>
          store.append(`bench-${writers}-${w}`, 'policy', i, [{ type: 'policy.created', schemaVersion: 1, payload: payload(i) }], context),
        ),
      );
      rows.push([`append, ${writers} writer(s) (events/s)`, ours, reference]);
    }

    const kafka = createKafka({ brokers: brokers.split(','), clientId: 'bench' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'bench.relay', numPartitions: 6 },
        { topic: 'bench.raw', numPartitions: 6 },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    // The relay publishes the events of the 1-writer run... and of the 8-writer run: 2 × EVENTS; measure the first EVENTS.
    await dataSource.query(`DELETE FROM events WHERE stream_id LIKE 'bench-8-%'`);
    const relay = new OutboxRelay({
      db: dataSource,
      producer,
      dc: 'dc1',
      logger: new JsonLogger({}, 'error'),
      topic: 'bench.relay',
      batchSize: 1000,
    });
    const relayRate = await timed('outbox relay into Kafka', async () => {
      while ((await relay.runOnce()) > 0);
    });
    const records = (await store.readAll({ transactionId: '0', position: '0' }, EVENTS)).map((e) => encodeEvent(toEnvelope(e)));
    const rawRate = await timed('bare kafkajs producer, batches of 1000', async () => {
      for (let i = 0; i < records.length; i += 1000)
        await producer.send({ topic: 'bench.raw', acks: -1, messages: records.slice(i, i + 1000) });
    });
    rows.push(['relay into Kafka (events/s)', relayRate, rawRate]);
    await producer.disconnect();

    console.log('');
    console.log('| measure | apim | reference | apim / reference |');
    console.log('|---|---:|---:|---:|');
    for (const [label, ours, reference] of rows)
      console.log(`| ${label} | ${ours.toFixed(0)} | ${reference.toFixed(0)} | ${(ours / reference).toFixed(2)} |`);
    console.log('\nreferences: append rows vs plain INSERT loop of the same rows; relay vs bare kafkajs producer of the same records.');
  } finally {
    await dataSource.destroy();
    await dropDatabase(postgres.adminUrl, dbName);
    await cluster?.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
