import { randomBytes } from 'node:crypto';
import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer, Transaction } from 'kafkajs';
import {
  chunks,
  createTopicsAsBrokersDefault,
  endOffsets,
  JsonLogger,
  MIRROR_HEADERS,
  mirrorTopic,
  RESTORED_GROUP,
  topicConfig,
  TOPICS,
} from '@apim/events';
import { MirrorProgress } from './mirror-progress';

export interface SourceMirrorOptions {
  /** The DC mirrored from, and the one mirrored into (this replicator's own). */
  source: string;
  target: string;
  sourceKafka: Kafka;
  targetKafka: Kafka;
  /** The source's local topics to mirror (those that do not exist yet are picked up when they appear). */
  topics: readonly string[];
  logger: JsonLogger;
  /** How often the source's topics, partitions and end offsets are looked at. */
  refreshMs: number;
  /** Largest fetch per partition, so that one batch fits one produce request. */
  maxBytesPerPartition?: number;
  /** The open transaction commits once no batch came for this long, or this long after its first batch (see OpenTransaction). */
  commitWhenIdleMs: number;
  commitAtMostMs: number;
}

/**
 * `source-down` / `target-down`: that cluster does not answer; the mirror retries and catches up by itself.
 * `source-behind`: the source's `apim.events` ends before this mirror's checkpoints: the topic is not the one
 * mirrored so far (the source DC was rebuilt and `dc:restore` has not finished); the mirror waits for it.
 * `source-replaced`: the source's cluster is not the one the checkpoints are of, and its `apim.events` was not
 * restored from this DC's mirror: mirroring it from the checkpoints would skip records; nothing is mirrored.
 */
export type MirrorState = 'starting' | 'mirroring' | 'source-down' | 'target-down' | 'source-behind' | 'source-replaced' | 'stopped';

interface Session {
  consumer?: Consumer;
  /** The transactional producers, one per lane (see OpenTransaction). */
  producers?: Producer[];
  sourceAdmin?: Admin;
  targetAdmin?: Admin;
  groupId?: string;
  /** Source topic NUL partition -> the lowest offset this session may fetch next (from the checkpoints, then each batch). */
  positions: Map<string, bigint>;
}

/** Mirror topic -> partition -> next source offset to mirror. */
type Checkpoints = Map<string, Map<number, bigint>>;

/** Moves a checkpoint forward, never back. */
function raise(checkpoints: Checkpoints, mirror: string, partition: number, next: bigint): void {
  if (!checkpoints.has(mirror)) checkpoints.set(mirror, new Map());
  const partitions = checkpoints.get(mirror)!;
  if ((partitions.get(partition) ?? -1n) < next) partitions.set(partition, next);
}

/** Checkpoints in the shape of kafkajs' `sendOffsets`, each with the id of the source cluster its offset is of. */
function offsetTopics(
  checkpoints: Checkpoints,
  sourceCluster: string,
): { topic: string; partitions: { partition: number; offset: string; metadata: string }[] }[] {
  return [...checkpoints].map(([topic, partitions]) => ({
    topic,
    partitions: [...partitions].map(([partition, offset]) => ({ partition, offset: offset.toString(), metadata: sourceCluster })),
  }));
}

/** Partition layout of the source topics being mirrored: topic -> partition count. */
type Layout = Map<string, number>;

/** The topology changed under a running session: start a new one (not an error). */
class Relayout extends Error {}

/** The source's events topic ends before the checkpoints (see `source-behind`). */
class SourceBehind extends Error {}

/** The source's cluster was replaced and its events topic is not a restored copy (see `source-replaced`). */
class SourceReplaced extends Error {}

const sameLayout = (a: Layout, b: Layout) => a.size === b.size && [...a].every(([topic, count]) => b.get(topic) === count);
/** Checkpoints are re-committed this often even when nothing flows, so the broker never expires them. */
const CHECKPOINT_REFRESH_MS = 60 * 60 * 1000;
/** Estimated bytes per produce request: well under the brokers' default 1 MiB `message.max.bytes`. */
const MAX_SEND_BYTES = 512 * 1024;
/** Fetched bytes that may wait for their transaction while the consumer fetches ahead. */
const MAX_AHEAD_BYTES = 16 * 1024 * 1024;
/** Transactional producers taking turns (see OpenTransaction). */
const LANES = 2;

/** One produce request's share of a partition: a chunk of its records. */
export interface PartitionChunk {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

/**
 * The produce requests that send `batches` (in fetch order, several of them
 * possibly of one partition) with no record batch over `maxBytes`: request n
 * carries the n-th chunk of each partition, a partition's chunks taken in
 * order across all its batches, so that its records keep their order.
 */
export function sendRounds(
  batches: readonly Pick<PartitionChunk, 'topic' | 'partition' | 'messages'>[],
  maxBytes: number,
): PartitionChunk[][] {
  const byPartition = new Map<string, PartitionChunk[]>();
  for (const { topic, partition, messages } of batches) {
    const key = `${topic}\u0000${partition}`;
    const queue = byPartition.get(key) ?? [];
    byPartition.set(key, queue);
    for (const chunk of chunks(messages, maxBytes)) queue.push({ topic, partition, messages: chunk });
  }
  const rounds: PartitionChunk[][] = [];
  for (const queue of byPartition.values()) queue.forEach((chunk, round) => (rounds[round] ??= []).push(chunk));
  return rounds;
}

/** A fetched batch on its way to the target: settled when its transaction commits or fails. */
interface Queued {
  session: Session;
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  next: bigint;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * The transaction batches are being sent in, with the timer of its commit.
 * It stays open while batches keep coming, and commits with their
 * checkpoints once none came for `commitWhenIdleMs`, or `commitAtMostMs`
 * after its first batch. Records are in the mirror as soon as they are sent
 * (every consumer of mirrors in the product reads uncommitted); committed
 * readers see them at the commit.
 *
 * Transactions take turns on two transactional producers (lanes), so that
 * sends never wait for a commit: while one lane commits (about five round
 * trips, then the broker writes the markers, and a producer's next
 * transaction is told CONCURRENT_TRANSACTIONS until they are written), the
 * next transaction is already open on the other lane and takes the batches
 * that arrive. On one producer, every commit held the sends behind it: at
 * 5,000 records/s, with the bench's readers each on a thread of its own, a
 * record's p99 from fetched to sent was 33 ms on one lane, against 9 ms from
 * the source to fetched.
 *
 * Still exactly once, and in order: a transaction's sends all complete
 * before the next transaction's first send (one send at a time), so a
 * partition's records keep their order across lanes; commits run one after
 * the other, each after the sends of its transaction; and after a failed
 * one, no later transaction commits (the session ends and resumes from the
 * last committed checkpoints). A later transaction's checkpoint is never
 * older than an earlier one's, and the group coordinator keeps the offset
 * commit appended last, whatever the order in which it applies the markers.
 * A lane opens its next transaction only once its previous one has ended.
 */
interface OpenTransaction {
  lane: number;
  txn: Transaction;
  since: number;
  batches: Queued[];
  /** Its last send: settled when that send ended. */
  sends: Promise<void>;
  timer?: NodeJS.Timeout;
}

/** A cluster that does not answer a probe this fast counts as down. */
const PROBE_TIMEOUT_MS = 3000;

/**
 * Mirrors one source DC's local topics into this DC's cluster as
 * `<source>.<topic>`, same partition, same key, value, timestamp and headers,
 * plus the source DC and source offset as headers.
 *
 * Exactly once: every source batch is written in one Kafka transaction of the
 * target cluster together with its checkpoint (the next source offset,
 * committed as the offset of the mirror partition in the consumer group
 * `apim-replicator.<source>` of the target cluster). A restarted or relocated
 * replicator first initialises the same transactional id, which fences any
 * older instance and aborts its open transaction, then reads the checkpoints,
 * so a record is either mirrored and checkpointed, or neither. Consumers read
 * the mirrors `read_committed` (kafkajs' default).
 *
 * Any failure ends the session; the loop starts a new one with back-off, from
 * the checkpoints. Topics that appear and partitions that are added in the
 * source start a new session too, so no restart of the process is needed.
 */
export class SourceMirror {
  readonly progress = new MirrorProgress();
  state: MirrorState = 'starting';
  lastError: string | null = null;
  sessions = 0;
  transactions = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private session?: Session;
  private failure: Error | null = null;
  /** Sends, one at a time: a transaction's sends all complete before the next one's first. */
  private sendChain: Promise<unknown> = Promise.resolve();
  /** Commits (and aborts of what a failure left open), one at a time, in the order the transactions opened. */
  private commitChain: Promise<unknown> = Promise.resolve();
  /** The lane that opens the next transaction, and when each lane's last transaction ended. */
  private turn = 0;
  private laneFree: Promise<unknown>[] = [];
  private lastCommitAt = 0;
  private readonly queued: Queued[] = [];
  /** The transaction records are being written in (see OpenTransaction). */
  private open?: OpenTransaction;
  private flushQueued = false;
  /** Bytes of fetched batches not yet committed (the consumer fetches ahead up to MAX_AHEAD_BYTES). */
  private aheadBytes = 0;
  /** The source DC as a header value, encoded once. */
  private readonly sourceHeader: Buffer;
  /** Checkpoints as committed (mirror topic -> partition -> next source offset): what an idle refresh re-commits. */
  private readonly committed: Checkpoints = new Map();
  /** The source cluster's id, as the session in progress found it: stored with every checkpoint. */
  private sourceCluster = '';
  /** The source cluster each checkpoint read at the session's start is of (mirror topic NUL partition -> id; '' when not recorded). */
  private readonly checkpointClusters = new Map<string, string>();
  /** Which cluster the step in progress talks to: names the one at fault when it fails. */
  private phase: 'source' | 'target' = 'source';
  private readonly probes: { source?: Promise<boolean>; target?: Promise<boolean> } = {};

  constructor(readonly options: SourceMirrorOptions) {
    this.sourceHeader = Buffer.from(options.source);
  }

  get checkpointGroup(): string {
    return `apim-replicator.${this.options.source}`;
  }

  /** The transactional id of each lane; the first is the one replicators used before there were lanes. */
  transactionalId(lane: number): string {
    const id = `apim-replicator.${this.options.source}.${this.options.target}`;
    return lane === 0 ? id : `${id}.${lane}`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.stopped;) {
      try {
        this.sessions++;
        await this.runSession();
        attempt = 0;
      } catch (error) {
        if (this.stopped) break;
        if (error instanceof Relayout) {
          this.options.logger.info('source topics or partitions changed; mirroring them from the checkpoints', {
            source: this.options.source,
            layout: error.message,
          });
          attempt = 0;
          continue;
        }
        attempt++;
        const behind = error instanceof SourceBehind;
        const replaced = error instanceof SourceReplaced;
        this.lastError = behind || replaced ? error.message : `${this.phase} cluster: ${(error as Error).message}`;
        this.state = behind ? 'source-behind' : replaced ? 'source-replaced' : this.phase === 'target' ? 'target-down' : 'source-down';
        this.options.logger.warn('mirror session ended; retrying from the checkpoints', {
          source: this.options.source,
          attempt,
          error: this.lastError,
        });
        await this.pause(Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)));
      } finally {
        await this.closeSession();
      }
    }
  }

  private async runSession(): Promise<void> {
    const { source, target, sourceKafka, targetKafka, logger } = this.options;
    const session: Session = { positions: new Map() };
    this.session = session;
    this.failure = null;

    this.state = 'starting';
    this.phase = 'source';
    session.sourceAdmin = sourceKafka.admin();
    await session.sourceAdmin.connect();
    const layout = await this.sourceLayout(session.sourceAdmin);
    this.sourceCluster = (await session.sourceAdmin.describeCluster()).clusterId;
    this.progress.sourceAnswered(Date.now());

    this.phase = 'target';
    session.targetAdmin = targetKafka.admin();
    await session.targetAdmin.connect();
    await this.ensureMirrorTopics(session.targetAdmin, layout);

    // Initialising the transactional ids fences an older instance and aborts its open transactions:
    // the checkpoints read next are final.
    session.producers = Array.from({ length: LANES }, (_, lane) =>
      targetKafka.producer({
        transactionalId: this.transactionalId(lane),
        idempotent: true,
        maxInFlightRequests: 1,
        // A lane's transaction that follows its commit is told CONCURRENT_TRANSACTIONS until the markers are
        // written (a few ms): retry quickly, not after the client's default 200 ms, and never back off past 50 ms
        // (doubling from 5 ms reached 640 ms after a burst of commits: the propagation bench's p99). 60 tries, 3 s
        // at most.
        retry: { initialRetryTime: 5, maxRetryTime: 50, retries: 60 },
      }),
    );
    for (const producer of session.producers) {
      await producer.connect();
      await (await producer.transaction()).abort();
    }
    this.turn = 0;
    this.laneFree = session.producers.map(() => Promise.resolve());
    const checkpoints = await this.readStableCheckpoints(session.targetAdmin, layout);
    this.phase = 'source';
    await this.checkAgainstEnds(session.sourceAdmin, checkpoints);
    this.committed.clear();
    for (const [topic, partitions] of checkpoints)
      for (const [partition, next] of partitions) if (next > 0n) raise(this.committed, mirrorTopic(source, topic), partition, next);
    this.lastCommitAt = Date.now();

    if (layout.size === 0) {
      this.state = 'mirroring';
      await this.watch(session, layout);
      return;
    }

    this.phase = 'source';
    session.groupId = `apim-replicator-${target}-${randomBytes(4).toString('hex')}`;
    for (const [topic, partitions] of checkpoints) {
      const known = [...partitions].filter(([, offset]) => offset >= 0n);
      for (const [partition, offset] of known) session.positions.set(`${topic}\u0000${partition}`, offset);
      if (known.length > 0)
        await session.sourceAdmin.setOffsets({
          groupId: session.groupId,
          topic,
          partitions: known.map(([partition, offset]) => ({ partition, offset: offset.toString() })),
        });
    }
    const consumer = sourceKafka.consumer({
      groupId: session.groupId,
      maxWaitTimeInMs: 50,
      maxBytes: 32 * 1024 * 1024,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 768 * 1024,
      sessionTimeout: 30_000,
      // Never restarted by kafkajs: a restarted consumer starts from its group's committed offsets, which are the
      // positions this session set at its start (it commits its progress in the target cluster only), or from the
      // beginning of a source cluster that was replaced; either mirrors records a second time. A crash ends the
      // session instead, and the next one starts from the checkpoints.
      retry: { retries: 5, initialRetryTime: 250, maxRetryTime: 5000, restartOnFailure: async () => false },
    });
    session.consumer = consumer;
    consumer.on(consumer.events.FETCH, () => this.progress.sourceAnswered(Date.now()));
    consumer.on(consumer.events.CRASH, ({ payload }) => this.fail(payload.error, 'source'));
    // A consumer that joins its group again (a rebalance, a coordinator that moved, a source cluster replaced at
    // the same address) takes its positions from the group's committed offsets: the session's start positions,
    // or none at all. The session ends instead, and the next one starts from the checkpoints.
    let joins = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (++joins > 1)
        this.fail(new Error('the source consumer joined its group again: its positions are no longer the checkpoints'), 'source');
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...layout.keys()], fromBeginning: true });
    // Every partition of a fetch at once, so that one transaction carries them all (see mirrorBatch).
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: (payload) => this.mirrorBatch(payload, session),
    });
    this.state = 'mirroring';
    this.lastError = null;
    logger.info('mirroring', { source, target, topics: Object.fromEntries(layout), checkpointGroup: this.checkpointGroup });
    await this.watch(session, layout);
  }

  /** Until stopped, a failure, or a new layout: probes both clusters, refreshes end offsets, re-commits idle checkpoints. */
  private async watch(session: Session, layout: Layout): Promise<void> {
    while (!this.stopped) {
      if (this.failure) throw this.failure;
      let relayout: Layout | null = null;
      const sourceUp = await this.probe('source', async () => {
        const now = await this.sourceLayout(session.sourceAdmin!);
        if (!sameLayout(now, layout)) relayout = now;
        for (const topic of layout.keys()) {
          for (const { partition, high } of await session.sourceAdmin!.fetchTopicOffsets(topic))
            this.progress.observeEnd(topic, partition, BigInt(high), Date.now());
        }
        this.progress.sourceAnswered(Date.now());
      });
      if (relayout) throw new Relayout(JSON.stringify(Object.fromEntries(relayout)));
      const targetUp = await this.probe('target', () => session.targetAdmin!.describeCluster());
      if (this.failure) throw this.failure;
      this.state = !targetUp ? 'target-down' : !sourceUp ? 'source-down' : 'mirroring';
      if (targetUp && Date.now() - this.lastCommitAt > CHECKPOINT_REFRESH_MS) await this.refreshCheckpoints(session);
      await this.pause(this.options.refreshMs);
    }
  }

  /**
   * True when `call` answers within PROBE_TIMEOUT_MS. kafkajs retries a call to
   * a cluster that is down for a long time: such a call stays the one in
   * flight, and the probe answers false until it ends, rather than piling up.
   */
  private async probe(cluster: 'source' | 'target', call: () => Promise<unknown>): Promise<boolean> {
    const inFlight = (this.probes[cluster] ??= call()
      .then(
        () => true,
        (error: Error) => {
          this.lastError = `${cluster} cluster: ${error.message}`;
          return false;
        },
      )
      .finally(() => (this.probes[cluster] = undefined)));
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), PROBE_TIMEOUT_MS).unref());
    const up = await Promise.race([inFlight, timedOut]);
    if (!up && this.lastError?.startsWith(cluster) !== true) this.lastError = `${cluster} cluster does not answer`;
    return up;
  }

  /**
   * Queues a fetched batch for the next transaction. kafkajs hands over the
   * partitions of a fetch concurrently, so one transaction carries the
   * batches of every partition that arrived together (group commit). The
   * consumer goes on fetching while earlier batches commit (up to
   * MAX_AHEAD_BYTES waiting), so fetching and committing overlap. Exactly
   * once still: transactions commit one after the other, and after a failed
   * one no later batch commits (the session ends and resumes from the last
   * committed checkpoints).
   */
  private async mirrorBatch({ batch }: EachBatchPayload, session: Session): Promise<void> {
    const { messages, topic, partition } = batch;
    // A batch of a session that is ending never reaches a later session's producer: its positions are not the checkpoints.
    if (messages.length === 0 || this.failure || this.stopped || this.session !== session || !session.producers) return;
    // Offsets only grow within a session; a batch from before what it mirrored already would mirror records twice.
    const position = `${topic}\u0000${partition}`;
    const first = BigInt(messages[0].offset);
    if (first < (session.positions.get(position) ?? 0n)) {
      this.fail(
        new Error(
          `${topic} partition ${partition}: the source consumer went back to offset ${first}, before ${session.positions.get(position)}`,
        ),
        'source',
      );
      return;
    }
    this.progress.observeEnd(topic, partition, BigInt(batch.highWatermark), Date.now());
    this.progress.pending(topic, partition, Number(messages[0].timestamp));
    const next = BigInt(messages[messages.length - 1].offset) + 1n;
    session.positions.set(position, next);
    let bytes = 0;
    for (const message of messages) bytes += (message.value?.length ?? 0) + (message.key?.length ?? 0) + 64;
    this.aheadBytes += bytes;
    const committed = new Promise<void>((resolve, reject) => {
      this.queued.push({ session, topic, partition, messages, next, resolve, reject });
      this.scheduleFlush();
    }).then(
      () => {
        this.progress.mirrored(topic, partition, next, messages.length, Date.now());
        this.state = 'mirroring';
      },
      (error: Error) => {
        this.progress.abandoned(topic, partition);
        this.fail(error, 'target');
      },
    );
    void committed.finally(() => (this.aheadBytes -= bytes));
    if (this.aheadBytes > MAX_AHEAD_BYTES) await committed;
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // setImmediate: the other partitions of the same fetch join the same produce request.
    setImmediate(() =>
      this.send(() => {
        this.flushQueued = false;
        return this.flush();
      }),
    );
  }

  /** Runs `step` after every send step queued before it. */
  private send(step: () => Promise<void>): Promise<void> {
    const run = this.sendChain.then(step);
    this.sendChain = run.catch(() => undefined);
    return run;
  }

  /** Runs `step` after every commit step queued before it. */
  private settle(step: () => Promise<void>): Promise<void> {
    const run = this.commitChain.then(step);
    this.commitChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends the queued batches in the open transaction (opening one if needed),
   * and arranges its commit. After a failure nothing is sent or committed any
   * more: a later checkpoint would skip the batches that failed.
   */
  private async flush(): Promise<void> {
    const all = this.queued.splice(0);
    const live = (b: Queued) => b.session === this.session && !this.failure;
    const batches = all.filter(live);
    for (const stale of all.filter((b) => !live(b))) stale.reject(this.failure ?? new Error('the mirror session ended'));
    if (batches.length === 0) return;
    let sent!: () => void;
    const sending = new Promise<void>((resolve) => (sent = resolve));
    try {
      const open = (this.open ??= await this.openTransaction());
      open.batches.push(...batches);
      // Its commit waits for this send; a send after the commit is due goes to the next transaction.
      open.sends = sending;
      const due = Math.min(this.options.commitWhenIdleMs, open.since + this.options.commitAtMostMs - Date.now());
      clearTimeout(open.timer);
      open.timer = setTimeout(() => void this.commitOpen(), Math.max(0, due));
      // The added headers make records bigger than fetched: split each partition's records so that no record
      // batch passes the broker's limit, and send one chunk per partition per request, in order.
      for (const round of sendRounds(batches, MAX_SEND_BYTES)) {
        const topicMessages = round.map(({ topic, partition, messages }) => ({
          topic: mirrorTopic(this.options.source, topic),
          messages: messages.map((m) => this.mirrored(m, partition)),
        }));
        await open.txn.sendBatch({ topicMessages });
      }
    } catch (error) {
      this.fail(error as Error, 'target');
      // Not awaited: the abort is queued behind commits, which may wait for this send to end.
      void this.abortOpen(error as Error);
      for (const b of batches) b.reject(error as Error);
    } finally {
      sent();
    }
  }

  /** A transaction on the next lane, once that lane's previous transaction has ended. */
  private async openTransaction(): Promise<OpenTransaction> {
    const producers = this.session?.producers;
    if (!producers) throw new Error('the mirror session ended');
    const lane = this.turn;
    this.turn = (lane + 1) % producers.length;
    await this.laneFree[lane];
    if (this.failure) throw this.failure;
    return { lane, txn: await producers[lane].transaction(), since: Date.now(), batches: [], sends: Promise.resolve() };
  }

  /**
   * Takes the open transaction out of turn and queues its commit, after the
   * commits queued before it and after its last send. Later batches go to a
   * new transaction on the next lane meanwhile.
   */
  private commitOpen(): Promise<void> {
    const open = this.takeOpen();
    if (!open) return Promise.resolve();
    const committed = this.settle(async () => {
      await open.sends;
      await this.commit(open);
    });
    this.laneFree[open.lane] = this.commitChain;
    return committed;
  }

  /** Commits `open` with the checkpoints of every batch it carries, then settles them; after a failure, aborts it. */
  private async commit(open: OpenTransaction): Promise<void> {
    if (this.failure) return this.abort(open, this.failure);
    try {
      const offsets: Checkpoints = new Map();
      for (const b of open.batches) raise(offsets, mirrorTopic(this.options.source, b.topic), b.partition, b.next);
      await open.txn.sendOffsets({ consumerGroupId: this.checkpointGroup, topics: offsetTopics(offsets, this.sourceCluster) });
      await open.txn.commit();
      this.transactions++;
      this.lastCommitAt = Date.now();
      for (const b of open.batches) raise(this.committed, mirrorTopic(this.options.source, b.topic), b.partition, b.next);
      for (const b of open.batches) b.resolve();
    } catch (error) {
      this.fail(error as Error, 'target');
      await this.abort(open, error as Error);
    }
  }

  /** Aborts the open transaction: none of its records count, and its batches are mirrored again by the next session. */
  private abortOpen(error: Error): Promise<void> {
    const open = this.takeOpen();
    if (!open) return Promise.resolve();
    const aborted = this.settle(() => this.abort(open, error));
    this.laneFree[open.lane] = this.commitChain;
    return aborted;
  }

  private async abort(open: OpenTransaction, error: Error): Promise<void> {
    await open.txn.abort().catch(() => undefined);
    for (const b of open.batches) b.reject(error);
  }

  /** The open transaction, no longer open to new batches nor due to commit by its timer. */
  private takeOpen(): OpenTransaction | undefined {
    const open = this.open;
    this.open = undefined;
    clearTimeout(open?.timer);
    return open;
  }

  private mirrored(message: KafkaMessage, partition: number): Message {
    return {
      key: message.key,
      value: message.value,
      partition,
      timestamp: message.timestamp,
      headers: { ...message.headers, [MIRROR_HEADERS.source]: this.sourceHeader, [MIRROR_HEADERS.offset]: message.offset },
    };
  }

  /** A transaction of its own, with no send in flight and once every transaction before it has ended. */
  private inTransaction(producer: Producer, work: (txn: Transaction) => Promise<void>): Promise<void> {
    return this.send(async () => {
      await this.commitOpen();
      await this.commitChain;
      if (this.failure) throw this.failure;
      await this.transact(producer, work);
    });
  }

  private async transact(producer: Producer, work: (txn: Transaction) => Promise<void>): Promise<void> {
    const txn = await producer.transaction();
    try {
      await work(txn);
      await txn.commit();
      this.transactions++;
      this.lastCommitAt = Date.now();
    } catch (error) {
      await txn.abort().catch(() => undefined);
      throw error;
    }
  }

  private async refreshCheckpoints(session: Session): Promise<void> {
    if (!session.producers) return;
    // The offsets are read when the transaction runs, from what was committed: never older than a batch
    // committed meanwhile, or the checkpoint would move back and a later session mirror that batch again.
    await this.inTransaction(session.producers[0], async (txn) => {
      const topics = offsetTopics(this.committed, this.sourceCluster);
      if (topics.length > 0) await txn.sendOffsets({ consumerGroupId: this.checkpointGroup, topics });
    });
  }

  /** The mirrored topics that exist in the source, with their partition counts. */
  private async sourceLayout(admin: Admin): Promise<Layout> {
    const existing = new Set(await admin.listTopics());
    const topics = this.options.topics.filter((topic) => existing.has(topic));
    const layout: Layout = new Map();
    if (topics.length === 0) return layout;
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
    for (const { name, partitions } of metadata) layout.set(name, partitions.length);
    return layout;
  }

  /** Each mirror has at least its source's partitions, so that every record keeps its partition. */
  private async ensureMirrorTopics(admin: Admin, layout: Layout): Promise<void> {
    if (layout.size === 0) return;
    const existing = new Set(await admin.listTopics());
    const mirrors = [...layout].map(([topic, count]) => ({ topic, mirror: mirrorTopic(this.options.source, topic), count }));
    const missing = mirrors.filter(({ mirror }) => !existing.has(mirror));
    if (missing.length > 0) {
      await createTopicsAsBrokersDefault(
        admin,
        missing.map(({ mirror, count }) => ({
          topic: mirror,
          numPartitions: count,
          configEntries: topicConfig(mirror)?.configEntries ?? [],
        })),
      );
    }
    const present = mirrors.filter(({ mirror }) => existing.has(mirror));
    if (present.length === 0) return;
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present.map(({ mirror }) => mirror) });
    const grow = present
      .map(({ mirror, count }) => ({ topic: mirror, count, has: metadata.find((t) => t.name === mirror)?.partitions.length ?? 0 }))
      .filter(({ count, has }) => has < count);
    if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map(({ topic, count }) => ({ topic, count })) });
  }

  /**
   * The group coordinator applies a committed transaction's offsets
   * asynchronously after its markers are written, and kafkajs cannot ask for
   * stable offsets (KIP-447 `requireStable`): read until two reads 250 ms
   * apart agree, so the last transaction of the previous session is seen.
   */
  private async readStableCheckpoints(admin: Admin, layout: Layout): Promise<Map<string, Map<number, bigint>>> {
    const flat = (c: Map<string, Map<number, bigint>>) =>
      JSON.stringify([...c].map(([t, p]) => [t, [...p].map(([k, v]) => [k, String(v)])]));
    let previous = await this.readCheckpoints(admin, layout);
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const current = await this.readCheckpoints(admin, layout);
      if (flat(current) === flat(previous)) return current;
      previous = current;
    }
    throw new Error('checkpoints kept changing for 5 s: is another replicator for this source running?');
  }

  /**
   * Whether the checkpoints still hold for the source's topics. A checkpoint
   * past its partition's end, or one of another source cluster than today's
   * (each checkpoint is stored with the id of the cluster it is an offset of),
   * means the source DC was rebuilt. Its events topic is waited for while it
   * is shorter than the checkpoints (`dc:restore` puts every record back at
   * its offset) and mirrored from the checkpoints once `dc:restore` has marked
   * it restored up to them (RESTORED_GROUP); a replaced cluster whose topic was
   * not restored is refused: from the checkpoints, records would be skipped,
   * and from its start, the restored history would be mirrored twice. Other
   * topics (usage records) are not restored: they are mirrored from their new
   * start.
   */
  private async checkAgainstEnds(admin: Admin, checkpoints: Map<string, Map<number, bigint>>): Promise<void> {
    const { source } = this.options;
    const behind: string[] = [];
    const replaced: string[] = [];
    for (const [topic, partitions] of checkpoints) {
      const ends = await endOffsets(admin, topic);
      const restored = topic === TOPICS.events ? await this.restoredEnds(admin) : new Map<number, bigint>();
      for (const [partition, next] of partitions) {
        if (next <= 0n) continue;
        const end = ends.get(partition) ?? 0n;
        const cluster = this.checkpointClusters.get(`${mirrorTopic(source, topic)}\u0000${partition}`) ?? '';
        const newCluster = cluster !== '' && cluster !== this.sourceCluster;
        if (topic !== TOPICS.events) {
          if (!newCluster && next <= end) continue;
          this.options.logger.warn('source topic is newer than its checkpoint; mirroring it from its start', {
            topic,
            partition,
            end: String(end),
            next: String(next),
          });
          partitions.set(partition, -1n);
          this.progress.resumeFrom(topic, partition, 0n);
        } else if (next > end) behind.push(`partition ${partition} ends at ${end}, before the checkpoint ${next}`);
        else if (newCluster && !(next <= (restored.get(partition) ?? -1n)))
          replaced.push(
            restored.has(partition)
              ? `partition ${partition} was restored up to ${restored.get(partition)}, before this DC's checkpoint ${next}`
              : `partition ${partition} was not restored`,
          );
      }
    }
    if (behind.length > 0)
      throw new SourceBehind(
        `${source}'s ${TOPICS.events} is not the topic mirrored so far (${behind.join('; ')}): ${source} was rebuilt and is not restored yet (npm run dc:restore); waiting`,
      );
    if (replaced.length > 0)
      throw new SourceReplaced(
        `${source}'s cluster is not the one mirrored so far and its ${TOPICS.events} is not a copy restored from this DC's mirror (${replaced.join('; ')}): mirroring it would skip records. Rebuild ${source} again and restore it from this DC (npm run dc:restore -- --from ${this.options.target})`,
      );
  }

  /** Where `dc:restore` ended its copy of each partition of the source's events topic (none: not restored). */
  private async restoredEnds(admin: Admin): Promise<Map<number, bigint>> {
    const [fetched] = await admin.fetchOffsets({ groupId: RESTORED_GROUP, topics: [TOPICS.events] });
    return new Map(
      (fetched?.partitions ?? []).filter(({ offset }) => BigInt(offset) >= 0n).map(({ partition, offset }) => [partition, BigInt(offset)]),
    );
  }

  /** Source topic -> partition -> next source offset to mirror (-1: never mirrored, start at the beginning). */
  private async readCheckpoints(admin: Admin, layout: Layout): Promise<Map<string, Map<number, bigint>>> {
    const checkpoints = new Map<string, Map<number, bigint>>();
    if (layout.size === 0) return checkpoints;
    const mirrors = [...layout.keys()].map((topic) => mirrorTopic(this.options.source, topic));
    const fetched = await admin.fetchOffsets({ groupId: this.checkpointGroup, topics: mirrors });
    this.checkpointClusters.clear();
    for (const { topic: mirror, partitions } of fetched) {
      const topic = mirror.slice(this.options.source.length + 1);
      const count = layout.get(topic) ?? 0;
      const byPartition = new Map<number, bigint>();
      for (const { partition, offset, metadata } of partitions) {
        if (partition >= count) continue;
        const next = BigInt(offset);
        byPartition.set(partition, next);
        this.checkpointClusters.set(`${mirror}\u0000${partition}`, metadata ?? '');
        this.progress.resumeFrom(topic, partition, next < 0n ? 0n : next);
      }
      checkpoints.set(topic, byPartition);
    }
    return checkpoints;
  }

  private fail(error: Error, cluster: 'source' | 'target'): void {
    if (!this.failure) this.phase = cluster;
    this.failure ??= error;
    this.wake?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    await session.consumer?.disconnect().catch(() => undefined);
    // Let a transaction in flight end (committed or aborted) before its producer goes; an open one is
    // aborted (its batches are mirrored again from the checkpoints).
    await this.sendChain;
    await this.abortOpen(this.failure ?? new Error('the mirror session ended'));
    await this.commitChain;
    for (const producer of session.producers ?? []) await producer.disconnect().catch(() => undefined);
    if (session.groupId && session.sourceAdmin) await session.sourceAdmin.deleteGroups([session.groupId]).catch(() => undefined);
    await session.sourceAdmin?.disconnect().catch(() => undefined);
    await session.targetAdmin?.disconnect().catch(() => undefined);
    if (this.stopped) this.state = 'stopped';
  }
}
