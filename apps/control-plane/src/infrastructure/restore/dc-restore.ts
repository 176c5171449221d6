import { randomBytes } from 'node:crypto';
import { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import {
  chunks,
  createTopicsAsBrokersDefault,
  endOffsets,
  JsonLogger,
  MIRROR_HEADERS,
  mirrorSource,
  mirrorTopic,
  RESTORED_GROUP,
  topicConfig,
  TOPICS,
} from '@apim/events';
import { RegionView, WriteGuard } from '../../command-side/write-guard';
import { ControlPlaneConfig } from '../../config/control-plane.config';
import { Checkpoints } from '../event-store/checkpoints';
import { Queryable } from '../event-store/event-store';
import { PostgresEventStore } from '../event-store/postgres-event-store';
import { controlPlaneImporter } from '../importer/control-plane-importer';
import { EventImporter } from '../importer/event-importer';
import { OutboxRelay } from '../outbox/outbox-relay';
import { allProjections } from '../projections/catalogue';
import { ProjectionRunner } from '../projections/projection-runner';

/**
 * Rebuilding a lost DC under its own id (docs/operations.md, "Rebuild a lost
 * DC"). Its Kafka cluster and database are new and empty; a peer still holds
 * what it wrote, as the mirror `<dc>.apim.events` in the peer's cluster, and
 * every other DC's events. Three steps, each one resumable:
 *
 * 1. `restoreOwnTopic`: the mirror is copied back into the new cluster's
 *    `apim.events`, each record into its partition at its original offset
 *    (the mirror's `apim.mirror.offset` header). The peer's replicator keeps
 *    its checkpoints for this DC, which are offsets of the old topic: they
 *    stay true, so it mirrors what the rebuilt DC writes next, from the next
 *    offset, with nothing skipped and nothing mirrored twice. Gateways of the
 *    new DC read this DC's history from it.
 * 2. `importHistory`: every events topic of the peer's cluster (its own, and
 *    its mirrors of every DC, this one's included) goes into the new event
 *    store through the importer, which orders streams across topics. The
 *    importer follows the verdicts already in that history (events set aside
 *    by a fence, conflicts' winners) and judges nothing itself: the history
 *    was judged when it was written, and the order events arrive in here is
 *    not the order they were first imported in.
 * 3. The outbox relay's checkpoint is set after everything imported: this
 *    DC's own events are in its topic already and are not published again.
 *
 * A marker (checkpoint `dc-restore`) is set before the first step and removed
 * after the last; a control plane refuses to start while it is there.
 */

/** The restore cannot go on as asked; what refused it says why and what to do. */
export class RestoreRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefused';
  }
}

export type Progress = (line: string) => void;

const MARKER = 'dc-restore';
const PROGRESS_EVERY_MS = 2000;
/** Estimated bytes per produce request (see `chunks`): well under the brokers' default 1 MiB `message.max.bytes`. */
const MAX_SEND_BYTES = 512 * 1024;

/** Whether a restore of this database began and has not finished (the control plane refuses to start then). */
export async function restoreUnfinished(db: Queryable): Promise<boolean> {
  const rows = (await db.query(`SELECT 1 FROM checkpoints WHERE name = $1`, [MARKER])) as unknown[];
  return rows.length > 0;
}

/**
 * Marks the restore as under way, unless it is already (then an earlier run
 * is resumed). A new restore is refused, before anything is marked, when the
 * store holds events or this DC's `apim.events` holds records (`topicRecords`):
 * it goes into a new, empty DC only.
 */
export async function beginRestore(db: DataSource, dc: string, topicRecords: bigint): Promise<{ resuming: boolean }> {
  return db.transaction(async (manager) => {
    const tx = manager as unknown as Queryable;
    if (await restoreUnfinished(tx)) return { resuming: true };
    const [{ count }] = (await tx.query(`SELECT count(*)::int AS count FROM events`)) as { count: number }[];
    if (count > 0)
      throw new RestoreRefused(
        `the event store of ${dc} holds ${count} events: a restore goes into a new, empty database only (and a new, empty Kafka cluster)`,
      );
    if (topicRecords > 0n)
      throw new RestoreRefused(
        `${TOPICS.events} in ${dc}'s cluster holds ${topicRecords} records already and no restore of ${dc} was under way: a restore goes into a new, empty Kafka cluster only`,
      );
    await new Checkpoints(tx).saveOffset(MARKER, '0');
    return { resuming: false };
  });
}

export interface TopicCopy {
  mirror: string;
  partitions: number;
  /** Records in this DC's `apim.events` once restored (every partition's end offset, summed). */
  records: number;
  /** Of those, copied by this run (fewer when an earlier run was resumed). */
  copied: number;
}

/** Step 1: the peer's mirror of this DC's `apim.events` back into this DC's cluster, each record at its offset. */
export async function restoreOwnTopic(options: {
  dc: string;
  peer: string;
  peerKafka: Kafka;
  ownKafka: Kafka;
  /** `beginRestore`, given the records this DC's `apim.events` holds, once the peer is known to hold this DC's history. */
  begin: (topicRecords: bigint) => Promise<{ resuming: boolean }>;
  progress: Progress;
}): Promise<TopicCopy & { resuming: boolean }> {
  const { dc, peer, peerKafka, ownKafka, progress } = options;
  const mirror = mirrorTopic(dc, TOPICS.events);
  const peerAdmin = peerKafka.admin();
  const ownAdmin = ownKafka.admin();
  const consumer = peerKafka.consumer({ groupId: `apim-dc-restore-${dc}-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 });
  const producer = ownKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let timer: NodeJS.Timeout | undefined;
  try {
    await peerAdmin.connect();
    await ownAdmin.connect();
    if (!(await peerAdmin.listTopics()).includes(mirror))
      throw new RestoreRefused(
        `${peer}'s cluster has no topic ${mirror}: ${peer} never mirrored ${dc}, so it holds nothing of ${dc} to restore`,
      );
    const ends = await endOffsets(peerAdmin, mirror);
    if (!(await ownAdmin.listTopics()).includes(TOPICS.events))
      await createTopicsAsBrokersDefault(ownAdmin, [
        { topic: TOPICS.events, numPartitions: ends.size, configEntries: topicConfig(TOPICS.events)!.configEntries },
      ]);
    // The next source offset each partition expects: what an earlier run copied already.
    const next = await endOffsets(ownAdmin, TOPICS.events);
    if (next.size !== ends.size)
      throw new RestoreRefused(
        `${TOPICS.events} has ${next.size} partitions in ${dc}'s cluster and ${mirror} ${ends.size} in ${peer}'s: records must keep their partitions. Delete ${TOPICS.events} in ${dc}'s cluster and run the restore again`,
      );
    const { resuming } = await options.begin(total(next));
    progress(resuming ? `resuming an unfinished restore of ${dc} from ${peer}` : `restoring ${dc} from ${peer}`);

    // Every partition's position, as the consumer passes commit markers and aborted records too.
    const read = new Map([...ends.keys()].map((partition) => [partition, 0n]));
    let copied = 0;
    let failure: Error | null = null;
    let settle!: (error: Error | null) => void;
    const settled = new Promise<Error | null>((resolve) => (settle = resolve));
    const caughtUp = () => [...ends].every(([partition, end]) => read.get(partition)! >= end || next.get(partition)! >= end);
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      read.set(payload.partition, BigInt(payload.lastOffset) + 1n);
      if (caughtUp()) settle(null);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => settle(payload.error));
    timer = setInterval(() => {
      const position = [...ends].map(([partition, end]) => `${partition}: ${read.get(partition)}/${end}`).join(', ');
      progress(`${mirror} of ${peer} -> ${TOPICS.events} of ${dc}: ${copied} records copied (mirror offsets read ${position})`);
    }, PROGRESS_EVERY_MS);
    if (caughtUp()) settle(null);
    else {
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: [mirror], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (failure) return;
          try {
            const records: KafkaMessage[] = [];
            for (const message of batch.messages) {
              const offset = sourceOffset(message, mirror, batch.partition);
              const expected = next.get(batch.partition)!;
              if (offset < expected) continue;
              if (offset > expected)
                throw new RestoreRefused(
                  `${mirror} partition ${batch.partition} lacks ${dc}'s offsets ${expected}..${offset - 1n}: the records cannot keep their offsets, which ${peer}'s replicator resumes from`,
                );
              records.push(message);
              next.set(batch.partition, offset + 1n);
            }
            for (const chunk of chunks(records, MAX_SEND_BYTES))
              await producer.send({
                topic: TOPICS.events,
                acks: -1,
                messages: chunk.map((message) => ({
                  partition: batch.partition,
                  key: message.key,
                  value: message.value,
                  timestamp: message.timestamp,
                  headers: withoutMirrorHeaders(message.headers),
                })),
              });
            copied += records.length;
          } catch (error) {
            failure = error as Error;
            settle(failure);
          }
        },
      });
    }
    const error = await settled;
    if (error) throw error;
    await consumer.stop();

    const written = await endOffsets(ownAdmin, TOPICS.events);
    for (const [partition, end] of written)
      if (end !== next.get(partition))
        throw new Error(
          `${TOPICS.events} partition ${partition} ends at ${end} in ${dc}'s cluster, not at ${next.get(partition)} as copied`,
        );
    const grown = [...(await endOffsets(peerAdmin, mirror))].filter(([partition, end]) => end > ends.get(partition)!);
    if (grown.length > 0)
      throw new RestoreRefused(
        `${mirror} grew in ${peer}'s cluster during the restore: ${peer} still receives ${dc}'s events, so the old ${dc} is running. Stop it (or ${peer}'s replicator) before restoring ${dc}`,
      );
    // For the peers' replicators: their checkpoints up to these offsets are offsets of this topic (RESTORED_GROUP).
    await ownAdmin.setOffsets({
      groupId: RESTORED_GROUP,
      topic: TOPICS.events,
      partitions: [...written].map(([partition, end]) => ({ partition, offset: end.toString() })),
    });
    return { mirror, partitions: ends.size, records: Number(total(written)), copied, resuming };
  } finally {
    clearInterval(timer);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await peerAdmin.disconnect().catch(() => undefined);
    await ownAdmin.disconnect().catch(() => undefined);
  }
}

export interface HistoryImport {
  topics: string[];
  imported: number;
  duplicates: number;
  movedAside: number;
  deadLettered: number;
  /** This DC's events in the store afterwards (what its outbox relay will not publish again). */
  own: number;
  region: RegionView;
}

/** Steps 2 and 3: every events topic of the peer's cluster into this DC's empty store, then the relay's checkpoint. */
export async function importHistory(options: {
  db: DataSource;
  config: ControlPlaneConfig;
  peer: string;
  peerKafka: Kafka;
  /** This DC's cluster: invalid records go to its DLQ. */
  ownProducer: Producer;
  logger: JsonLogger;
  progress: Progress;
  /** Gives up when the import has not caught up within this long. */
  timeoutMs: number;
}): Promise<HistoryImport> {
  const { db, config, peer, peerKafka, progress } = options;
  const dc = config.DC_ID;
  const admin = peerKafka.admin();
  await admin.connect();
  const groupId = `apim-dc-restore-import-${dc}-${randomBytes(4).toString('hex')}`;
  const guard = new WriteGuard(config, new PostgresEventStore(db));
  let importer: EventImporter | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const topics = (await admin.listTopics())
      .filter((topic) => topic === TOPICS.events || mirrorSource(topic, TOPICS.events) !== null)
      .sort();
    const running = controlPlaneImporter({
      db,
      kafka: peerKafka,
      producer: options.ownProducer,
      dc,
      topics,
      logger: options.logger,
      groupId,
      // Follows the history's verdicts, never judges (see above): nobody is primary to the importer.
      region: { lockRegion: async (tx, mode) => ({ ...(await guard.lockRegion(tx, mode)), primary: null }) },
      projections: new ProjectionRunner(db, allProjections(), options.logger),
    });
    importer = running;
    const ends = new Map<string, bigint>();
    for (const topic of topics)
      for (const [partition, end] of await endOffsets(admin, topic)) if (end > 0n) ends.set(`${topic}\u0000${partition}`, end);
    const caughtUp = () => {
      const reached = new Map(running.nextOffsets().map((p) => [`${p.topic}\u0000${p.partition}`, p.next]));
      return running.held === 0 && [...ends].every(([key, end]) => (reached.get(key) ?? 0n) >= end);
    };
    timer = setInterval(
      () =>
        progress(
          `${topics.join(', ')} of ${peer} -> the event store of ${dc}: ${running.imported} events imported, ${running.duplicates} duplicates, ${running.held} waiting for an earlier event`,
        ),
      PROGRESS_EVERY_MS,
    );
    await running.start();
    const deadline = Date.now() + options.timeoutMs;
    while (!caughtUp()) {
      if (Date.now() > deadline)
        throw new Error(
          `the import from ${peer} did not catch up within ${options.timeoutMs / 1000} s (${running.imported} imported, ${running.held} events waiting for an earlier event of their stream); run the restore again to go on`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await running.stop();
    const own = await db.transaction(async (manager) => {
      const tx = manager as unknown as Queryable;
      const [last] = (await tx.query(
        `SELECT transaction_id::text AS "transactionId", position::text AS position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`,
      )) as { transactionId: string; position: string }[];
      if (last) await new Checkpoints(tx).save(OutboxRelay.CHECKPOINT, last, tx);
      // Written by this run's importer about the peer's topics, not about this DC's mirrors.
      await tx.query(`DELETE FROM importer_progress`);
      const [{ count }] = (await tx.query(`SELECT count(*)::int AS count FROM events WHERE origin_dc = $1`, [dc])) as { count: number }[];
      return count;
    });
    return {
      topics,
      imported: running.imported,
      duplicates: running.duplicates,
      movedAside: running.movedAside,
      deadLettered: running.deadLettered,
      own,
      region: await guard.region(),
    };
  } finally {
    clearInterval(timer);
    await importer?.stop().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** The restore is complete: the control plane may start. */
export async function finishRestore(db: Queryable): Promise<void> {
  await new Checkpoints(db).reset(MARKER);
}

function total(offsets: Map<number, bigint>): bigint {
  return [...offsets.values()].reduce((sum, end) => sum + end, 0n);
}

/** The offset a mirrored record had in its source topic. */
function sourceOffset(message: KafkaMessage, mirror: string, partition: number): bigint {
  const header = message.headers?.[MIRROR_HEADERS.offset];
  if (header === undefined || Array.isArray(header))
    throw new RestoreRefused(
      `${mirror} partition ${partition} offset ${message.offset} has no ${MIRROR_HEADERS.offset} header: not written by a replicator`,
    );
  return BigInt(header.toString());
}

function withoutMirrorHeaders(headers: IHeaders | undefined): IHeaders {
  const kept: IHeaders = { ...headers };
  delete kept[MIRROR_HEADERS.source];
  delete kept[MIRROR_HEADERS.offset];
  return kept;
}
