import { randomBytes } from 'node:crypto';
import { Kafka, KafkaMessage } from 'kafkajs';
import { decodeEvent, endOffsets, EventEnvelope } from '@apim/events';
import type { AppendContext, NewEvent } from '../../apps/control-plane/src/infrastructure/event-store/event-store';

export const CONTEXT: AppendContext = { originDc: 'dc1', epoch: 1, correlationId: 'test', actor: 'system' };

/** A valid event of the catalogue, small and cheap, for store and relay tests. */
export function policyCreated(i = 0): NewEvent {
  return { type: 'policy.created', schemaVersion: 1, payload: { name: `P${i}`, requestsPerMinute: 60 + i, burst: 0, unlimited: false } };
}

export function uniqueStream(prefix = 'policy'): string {
  return `${prefix}:t-${randomBytes(5).toString('hex')}`;
}

/** Where each event returned by readTopicUntil was read, for failure messages. */
const whereRead = new WeakMap<EventEnvelope, string>();

/**
 * Reads `topic` from the beginning until `predicate` holds for what was read,
 * and returns the decoded events in the order of each partition.
 */
export async function readTopicUntil(
  kafka: Kafka,
  topic: string,
  predicate: (events: EventEnvelope[]) => boolean,
  timeoutMs = 60_000,
): Promise<EventEnvelope[]> {
  return readRecordsUntil(
    kafka,
    topic,
    (message, partition) => {
      const decoded = decodeEvent({ value: message.value, headers: message.headers });
      if (!decoded.ok) throw new Error(`undecodable record on ${topic}: ${decoded.reason}`);
      whereRead.set(decoded.envelope, `p${partition}@${message.offset}`);
      return decoded.envelope;
    },
    predicate,
    timeoutMs,
  );
}

/**
 * Reads `topic` from the beginning, keeping what `pick` returns for each
 * record (null: skip it), until `done` holds for what was kept.
 */
export async function readRecordsUntil<T>(
  kafka: Kafka,
  topic: string,
  pick: (message: KafkaMessage, partition: number) => T | null,
  done: (items: T[]) => boolean,
  timeoutMs = 60_000,
): Promise<T[]> {
  await waitForTopic(kafka, topic, timeoutMs);
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
  const items: T[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out reading ${topic}: kept ${items.length} records`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const item = pick(message, partition);
          if (item !== null) items.push(item);
          if (done(items)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return items;
}

/** Waits until `topic` exists with a leader for every partition (an app creates it at boot, asynchronously). */
export async function waitForTopic(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const deadline = Date.now() + timeoutMs; ;) {
      const found = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null);
      if (found && found.topics[0]?.partitions.every((p) => p.leader >= 0)) return;
      if (Date.now() > deadline) throw new Error(`topic ${topic} did not appear within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Every stream's versions appear in increasing order (duplicates allowed), and each version 1..n at least once. */
export function expectPerStreamOrder(events: EventEnvelope[], expectedVersions: Map<string, number>): void {
  const seen = new Map<string, number>();
  for (const event of events) {
    const last = seen.get(event.streamId) ?? 0;
    if (event.version > last + 1) {
      const sequence = events
        .filter((e) => e.streamId === event.streamId)
        .map((e) => `${e.version}${whereRead.has(e) ? `(${whereRead.get(e)})` : ''}`);
      throw new Error(`stream ${event.streamId}: version ${event.version} arrived after ${last} (sequence ${sequence.join(',')})`);
    }
    seen.set(event.streamId, Math.max(last, event.version));
  }
  for (const [stream, version] of expectedVersions) {
    if (seen.get(stream) !== version) throw new Error(`stream ${stream}: expected up to version ${version}, saw ${seen.get(stream) ?? 0}`);
  }
}

/** A record as read back, for comparing a source partition with its mirror. */
export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Every committed record of `topic` up to its end offsets at the time of the
 * call, per partition in order. Transaction markers take offsets but are never
 * delivered, so the end of a partition is known from the batches' last offsets.
 */
export async function readAllRecords(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<ReadRecord[][]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    ends = await endOffsets(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const records: ReadRecord[][] = [...ends.keys()].map(() => []);
  const reached = new Map<number, bigint>();
  const done = () => [...ends].every(([partition, end]) => end === 0n || (reached.get(partition) ?? -1n) + 1n >= end);
  if (done()) return records;
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out reading ${topic} to its end`)), timeoutMs);
      const reach = (partition: number, offset: string) => {
        if (BigInt(offset) > (reached.get(partition) ?? -1n)) reached.set(partition, BigInt(offset));
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => reach(payload.partition, payload.lastOffset));
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= (ends.get(batch.partition) ?? 0n)) break;
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
            records[batch.partition].push({
              partition: batch.partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers,
            });
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
