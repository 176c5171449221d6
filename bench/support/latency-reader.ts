/**
 * A replication-latency reader for bench/replication.bench.ts, run in a
 * worker thread of its own: each reader has its own event loop, so that one
 * reader decoding a burst (a committed reader receives a whole transaction
 * at its commit) does not delay the other reader's clock, nor the producer's.
 *
 * Messages to the parent: `{ type: 'fetching' }` once its first fetch
 * answered, then `{ type: 'done', latencies }` when every measured record
 * arrived or the parent posted 'stop'.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';

export interface LatencyReaderOptions {
  brokers: string;
  topic: string;
  readUncommitted: boolean;
  /** Records carrying this header count. */
  header: string;
  /** How many measured records to wait for. */
  total: number;
}

export type LatencyReaderMessage = { type: 'fetching' } | { type: 'done'; latencies: number[] };

async function read(options: LatencyReaderOptions): Promise<void> {
  const post = (message: LatencyReaderMessage) => parentPort!.postMessage(message);
  const kafka = new Kafka({ clientId: 'bench-latency', brokers: [options.brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `bench-latency-${randomUUID()}`,
    maxWaitTimeInMs: 5,
    minBytes: 1,
    readUncommitted: options.readUncommitted,
  });
  const latencies: number[] = [];
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    await consumer.disconnect().catch(() => undefined);
    post({ type: 'done', latencies });
  };
  parentPort!.on('message', (message) => {
    if (message === 'stop') void finish();
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: false });
  let fetching = false;
  consumer.on(consumer.events.FETCH, () => {
    if (!fetching) post({ type: 'fetching' });
    fetching = true;
  });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const message of batch.messages) {
        if (message.headers?.[options.header]) latencies.push(now - Number(message.timestamp));
      }
      if (latencies.length >= options.total) void finish();
    },
  });
}

if (parentPort) {
  read(workerData as LatencyReaderOptions).catch((error: Error) => {
    throw error;
  });
}
