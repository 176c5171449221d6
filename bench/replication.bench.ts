/**
 * Replication benchmark: our replicator against Apache Kafka's MirrorMaker 2,
 * between the same two clusters, in one run.
 *
 * 1. Throughput: N records (default 1,000,000, ~100 bytes, 6 partitions) are
 *    written to dc1's `apim.events` first; then each mirror runs alone and
 *    copies them into dc2. Records/s from the first record seen in dc2 to the
 *    last, so that neither start-up time (a JVM's, a Node process's) counts.
 * 2. Latency: with each mirror running and caught up, records are written at
 *    a steady rate (default 5,000/s: 3 s of warm-up, then 10 s measured), and
 *    two consumers in dc2 measure, per measured record, its arrival minus its
 *    source timestamp (both mirrors keep it): one reads records as written
 *    (as every consumer of mirrors in the product does: gateways, the
 *    importer, the usage ingestor), the other reads committed records only
 *    (as an outside read_committed consumer would: it waits for our
 *    transactions' commits). Each reader runs on a worker thread of its own.
 *    The mirrors take turns for `--rounds` rounds (default 3), restarted
 *    each time, and the ratio reported is the median of the rounds' ratios.
 *
 * `npm run bench:replication -- --records 1000000 --rate 5000 --seconds 10 --warm-up 3 --rounds 3`
 * (and `--commit-idle 5 --commit-max 20` to try the replicator's commit settings).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import { mirrorTopic } from '@apim/events';
import { replicatorEnv, startAppProcess } from '../tools/infra/app-process';
import { freePort } from '../tools/infra/free-port';
import { GuardedProcess } from '../tools/infra/guarded-process';
import { ensureKafkaClasspath } from '../tools/infra/kafka-classpath';
import { KafkaCluster } from '../tools/infra/kafka-cluster';
import { repoRoot } from '../tools/infra/repo-root';
import { waitForHttp } from '../tools/infra/wait-for-http';
import { argument, printTable, progress } from './support/bench-infra';
import type { LatencyReaderMessage, LatencyReaderOptions } from './support/latency-reader';

const RECORDS = Number(argument('--records') ?? 1_000_000);
const RATE = Number(argument('--rate') ?? 5000);
const SECONDS = Number(argument('--seconds') ?? 10);
/** Seconds written at RATE before the measured ones: both mirrors are measured in their steady state. */
const WARM_UP_SECONDS = Number(argument('--warm-up') ?? 3);
/**
 * Latency rounds: the mirrors take turns (ours, MirrorMaker 2, ours, ...),
 * each round restarting the mirror, so that both meet the machine's slow and
 * quiet moments alike; the verdict is the median of the rounds' ratios.
 */
const ROUNDS = Number(argument('--rounds') ?? 3);
/** Header of the records whose latency counts (those after the warm-up). */
const MEASURED = 'bench-measured';
/** The replicator's commit settings (MIRROR_COMMIT_IDLE_MS / _MAX_MS); its defaults when not given. */
const COMMIT_IDLE = argument('--commit-idle');
const COMMIT_MAX = argument('--commit-max');
const PARTITIONS = 6;
const TOPIC = 'apim.events';
const VALUE = Buffer.from('x'.repeat(80));

interface Mirror {
  name: string;
  /** The topic in dc2 it writes to. */
  target: string;
  start: () => Promise<void>;
  /** Source records mirrored so far. */
  mirrored: () => Promise<number>;
  stop: () => Promise<void>;
}

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

function percentiles(latencies: number[]): Percentiles {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

interface Result {
  name: string;
  records: number;
  seconds: number;
  rate: number;
  /** Per round, latency percentiles of committed records (an outside read_committed consumer), and of written ones (what the product reads). */
  rounds: { committed: Percentiles; written: Percentiles }[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const dir = join(repoRoot(), '.run', 'bench', `replication-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dc1 = new KafkaCluster({ name: 'bench-dc1', dataDir: join(dir, 'dc1'), heap: '768m', log: progress });
  const dc2 = new KafkaCluster({ name: 'bench-dc2', dataDir: join(dir, 'dc2'), heap: '768m', log: progress });
  const running: GuardedProcess[] = [];
  try {
    await Promise.all([dc1.start(), dc2.start()]);
    const source = new Kafka({ clientId: 'bench-source', brokers: [dc1.brokers], logLevel: logLevel.NOTHING });
    const target = new Kafka({ clientId: 'bench-target', brokers: [dc2.brokers], logLevel: logLevel.NOTHING });
    const admin = source.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }] });
    await admin.disconnect();

    progress(`writing ${RECORDS.toLocaleString()} records to dc1 ${TOPIC}`);
    await produceBurst(source, RECORDS);

    const mirrors: Mirror[] = [ourReplicator(dir, dc1, dc2, target, running), mirrorMaker2(dir, dc1, dc2, target, running)];
    const results: Result[] = mirrors.map((mirror) => ({ name: mirror.name, records: 0, seconds: 0, rate: 0, rounds: [] }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, mirror] of mirrors.entries()) {
        // Each mirror copies what the topic holds when it starts: in the first round, the backlog (timed), then what
        // the other mirror's latency runs added.
        const count = await sourceRecords(source);
        progress(`round ${round + 1} of ${ROUNDS}, ${mirror.name}: mirroring ${count.toLocaleString()} records`);
        await mirror.start();
        const { seconds } = await timeCatchUp(mirror, count);
        if (round === 0) Object.assign(results[i], { records: count, seconds, rate: count / seconds });
        progress(`  caught up in ${seconds.toFixed(2)} s; now ${RATE}/s for ${WARM_UP_SECONDS} + ${SECONDS} s`);
        const latencies = await measureLatency(source, dc2.brokers, mirror.target);
        await mirror.stop();
        results[i].rounds.push({ committed: percentiles(latencies.committed), written: percentiles(latencies.written) });
      }
    }

    console.log(`\nReplication of ${RECORDS.toLocaleString()} records (~${VALUE.length + 10} bytes, ${PARTITIONS} partitions) dc1 -> dc2`);
    console.log(
      `latency: ${ROUNDS} rounds, the mirrors taking turns; in each, ${(RATE * SECONDS).toLocaleString()} records at ${RATE}/s after ${WARM_UP_SECONDS} s at that rate, ` +
        'arrival in dc2 minus source timestamp, as written (as gateways, the importer and the usage ingestor read mirrors) and read committed ' +
        '(an outside read_committed consumer); medians of the rounds, then each round\n',
    );
    const rounds = (r: Result, of: 'written' | 'committed', q: keyof Percentiles) => r.rounds.map((x) => x[of][q]);
    printTable(
      ['mirror', 'records', 'seconds', 'records/s', 'written p50/p99 ms', 'written p99 each round', 'committed p50/p99 ms'],
      results.map((r) => [
        r.name,
        r.records.toLocaleString(),
        r.seconds.toFixed(2),
        Math.round(r.rate).toLocaleString(),
        `${median(rounds(r, 'written', 'p50'))} / ${median(rounds(r, 'written', 'p99'))}`,
        rounds(r, 'written', 'p99').join(' '),
        `${median(rounds(r, 'committed', 'p50'))} / ${median(rounds(r, 'committed', 'p99'))}`,
      ]),
    );
    const [ours, mm2] = results;
    const ratios = (of: 'written' | 'committed') => ours.rounds.map((x, i) => x[of].p99 / Math.max(1, mm2.rounds[i][of].p99));
    const shown = (values: number[]) => values.map((v) => v.toFixed(2)).join(', ');
    console.log(
      `\nthroughput ours/MM2: ${(ours.rate / mm2.rate).toFixed(2)} (target >= 1.00); ` +
        `p99 ours/MM2 as the product reads mirrors (as written): ${median(ratios('written')).toFixed(2)} (median of rounds ${shown(ratios('written'))}; target < 1.00); ` +
        `read committed: ${median(ratios('committed')).toFixed(2)}`,
    );
  } finally {
    await Promise.all(running.map((p) => p.stop(10_000)));
    await Promise.all([dc1.stop(), dc2.stop()]);
  }
}

async function sourceRecords(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(TOPIC)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function produceBurst(kafka: Kafka, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const batch = 5000;
  let lastReport = Date.now();
  for (let sent = 0; sent < count; sent += batch) {
    const n = Math.min(batch, count - sent);
    // One send per partition, so every batch is one record batch of one partition.
    const messages = Array.from({ length: n }, (_, i) => ({
      key: `k${(sent + i) % 1000}`,
      value: VALUE,
      partition: (sent + i) % PARTITIONS,
    }));
    await producer.send({ topic: TOPIC, acks: -1, messages });
    if (Date.now() - lastReport > 2000) {
      progress(`  ${(sent + n).toLocaleString()} written`);
      lastReport = Date.now();
    }
  }
  await producer.disconnect();
}

/** Polls progress every 50 ms: time from the first mirrored record to the last. */
async function timeCatchUp(mirror: Mirror, count: number): Promise<{ seconds: number }> {
  let firstAt = 0;
  let firstCount = 0;
  let lastReport = Date.now();
  let done = 0;
  for (const deadline = Date.now() + 30 * 60_000; Date.now() < deadline;) {
    // A topic the mirror has just created may not have its leaders yet: keep the last figure.
    done = await mirror.mirrored().catch(() => done);
    if (done > 0 && firstAt === 0) {
      firstAt = Date.now();
      firstCount = done;
    }
    if (done >= count) {
      const seconds = (Date.now() - firstAt) / 1000;
      // Records already there at the first poll came at no measured cost: scale them in.
      return { seconds: firstCount >= count ? 0.001 : (seconds * count) / (count - firstCount) };
    }
    if (Date.now() - lastReport > 2000) {
      progress(`  ${mirror.name}: ${done.toLocaleString()} mirrored`);
      lastReport = Date.now();
    }
    await sleep(50);
  }
  throw new Error(`${mirror.name} did not mirror ${count} records in 30 minutes`);
}

/** A reader in dc2, in a worker thread of its own, that collects the replication latency of each measured record. */
function latencyReader(
  brokers: string,
  topic: string,
  readUncommitted: boolean,
): { fetching: Promise<void>; stop: (within: Promise<void>) => Promise<number[]> } {
  const options: LatencyReaderOptions = { brokers, topic, readUncommitted, header: MEASURED, total: RATE * SECONDS };
  const worker = new Worker(join(__dirname, 'support', 'latency-reader.js'), { workerData: options });
  let fetching!: () => void;
  let done!: (latencies: number[]) => void;
  const latencies = new Promise<number[]>((resolve) => (done = resolve));
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  worker.on('message', (message: LatencyReaderMessage) => (message.type === 'fetching' ? fetching() : done(message.latencies)));
  return {
    fetching: Promise.race([new Promise<void>((resolve) => (fetching = resolve)), failed]),
    /** Every measured record's latency, or those that arrived by the end of `within`. */
    async stop(within) {
      await Promise.race([latencies, within, failed]);
      worker.postMessage('stop');
      const result = await Promise.race([latencies, failed]);
      await worker.terminate();
      return result;
    },
  };
}

/**
 * Writes RATE records/s for WARM_UP_SECONDS, then for SECONDS measured ones,
 * to dc1, and returns each measured record's replication
 * latency, seen by two consumers in dc2: one reading committed records (an
 * outside read_committed consumer), one reading every record as soon as it is
 * written (as the gateways, the importer and the usage ingestor do). Records of a mirror that writes without transactions are
 * committed as they are written: both see them alike.
 */
async function measureLatency(source: Kafka, brokers: string, topic: string): Promise<{ committed: number[]; written: number[] }> {
  const total = RATE * SECONDS;
  const readers = [latencyReader(brokers, topic, false), latencyReader(brokers, topic, true)];
  await Promise.all(readers.map((reader) => reader.fetching));
  await sleep(1000);

  const producer = source.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const tickMs = 10;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  const begin = Date.now();
  const warmUp = RATE * WARM_UP_SECONDS;
  for (let sent = 0, tick = 0; sent < warmUp + total; tick++) {
    const n = Math.min(perTick, warmUp + total - sent);
    const now = Date.now();
    const headers = sent >= warmUp ? { [MEASURED]: '1' } : {};
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: n }, (_, i) => ({ key: `k${(sent + i) % 1000}`, value: VALUE, timestamp: String(now), headers })),
    });
    sent += n;
    const wait = begin + (tick + 1) * tickMs - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await producer.disconnect();
  const deadline = sleep(60_000);
  const [committed, written] = await Promise.all(readers.map((reader) => reader.stop(deadline)));
  for (const latencies of [committed, written])
    if (latencies.length < total) progress(`  only ${latencies.length} of ${total} records arrived within 60 s`);
  return { committed, written };
}

function ourReplicator(dir: string, dc1: KafkaCluster, dc2: KafkaCluster, target: Kafka, running: GuardedProcess[]): Mirror {
  let child: GuardedProcess | undefined;
  const admin = target.admin();
  return {
    name: 'apim replicator',
    target: mirrorTopic('dc1', TOPIC),
    async start() {
      const port = await freePort();
      child = startAppProcess(
        'replicator',
        {
          ...replicatorEnv('dc2', dc2.brokers, 'dc1', dc1.brokers, port),
          LOG_LEVEL: 'warn',
          ...(COMMIT_IDLE ? { MIRROR_COMMIT_IDLE_MS: COMMIT_IDLE } : {}),
          ...(COMMIT_MAX ? { MIRROR_COMMIT_MAX_MS: COMMIT_MAX } : {}),
        },
        join(dir, 'replicator.log'),
        // e.g. BENCH_REPLICATOR_NODE_ARGS="--cpu-prof --cpu-prof-dir=.run/prof" to profile the replicator.
        (process.env.BENCH_REPLICATOR_NODE_ARGS ?? '').split(' ').filter(Boolean),
      );
      running.push(child);
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, 20);
      await admin.connect();
    },
    async mirrored() {
      // Exact even with transaction markers in the mirror: the checkpoints are source offsets.
      const [offsets] = await admin.fetchOffsets({ groupId: 'apim-replicator.dc1', topics: [mirrorTopic('dc1', TOPIC)] });
      return offsets?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0) ?? 0;
    },
    async stop() {
      await admin.disconnect();
      await child?.stop(10_000);
    },
  };
}

function mirrorMaker2(dir: string, dc1: KafkaCluster, dc2: KafkaCluster, target: Kafka, running: GuardedProcess[]): Mirror {
  let process: GuardedProcess | undefined;
  const admin = target.admin();
  const topic = `src.${TOPIC}`;
  return {
    name: 'MirrorMaker 2',
    target: topic,
    async start() {
      const libs = ensureKafkaClasspath(progress);
      const config = join(dir, 'mm2.properties');
      writeFileSync(
        config,
        [
          'clusters = src, dst',
          `src.bootstrap.servers = ${dc1.brokers}`,
          `dst.bootstrap.servers = ${dc2.brokers}`,
          'src->dst.enabled = true',
          `src->dst.topics = ${TOPIC}`,
          'dst->src.enabled = false',
          'dst->src.emit.heartbeats.enabled = false',
          'replication.factor = 1',
          'checkpoints.topic.replication.factor = 1',
          'heartbeats.topic.replication.factor = 1',
          'offset-syncs.topic.replication.factor = 1',
          'offset.storage.replication.factor = 1',
          'status.storage.replication.factor = 1',
          'config.storage.replication.factor = 1',
          'refresh.topics.interval.seconds = 1',
          'emit.checkpoints.interval.seconds = 5',
          'sync.group.offsets.enabled = false',
          'sync.topic.acls.enabled = false',
          '',
        ].join('\n'),
      );
      const log4j = join(dir, 'mm2-log4j.properties');
      writeFileSync(
        log4j,
        'log4j.rootLogger=WARN, stdout\nlog4j.appender.stdout=org.apache.log4j.ConsoleAppender\nlog4j.appender.stdout.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n',
      );
      process = new GuardedProcess(
        'java',
        [
          '-Xms256m',
          '-Xmx768m',
          `-Dlog4j.configuration=file:${log4j}`,
          '-cp',
          `${libs}/*`,
          'org.apache.kafka.connect.mirror.MirrorMaker',
          config,
        ],
        { logFile: join(dir, 'mm2.log') },
      );
      running.push(process);
      await admin.connect();
    },
    async mirrored() {
      const topics = await admin.listTopics();
      if (!topics.includes(topic)) return 0;
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    },
    async stop() {
      await admin.disconnect();
      await process?.stop(15_000);
    },
  };
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
