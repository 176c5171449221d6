import { randomBytes } from 'node:crypto';
import { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import {
  DeadLetter,
  deadLetterOf,
  decodeEvent,
  ensureTopics,
  EventEnvelope,
  JsonLogger,
  PartitionOffsets,
  StreamOrdering,
} from '@apim/events';
import { RoutingTable } from '../routing/routing-table';
import { fenceOf, Fences } from './fences';
import type { Positions, Snapshot } from './snapshot-store';

interface Located {
  envelope: EventEnvelope;
  topic: string;
  partition: number;
  offset: string;
  streamId: string;
  version: number;
  eventId: string;
}

export interface EventFeedOptions {
  kafka: Kafka;
  dc: string;
  gatewayId: string;
  /** `apim.events` and every `<dc>.apim.events` of this DC's cluster. */
  topics: string[];
  /** Further topics this gateway writes to, created with the ones it reads. */
  writesTo: string[];
  logger: JsonLogger;
  /** Where undecodable records go, with their reason. */
  deadLetter: (letter: DeadLetter) => Promise<void>;
  /** Kafka counts as down when no fetch has completed for this long. */
  staleAfterMs?: number;
}

/** `ready`: caught up and following; `degraded`: serving a table while Kafka is unreachable; else not serving yet. */
export type FeedState = 'ready' | 'degraded' | 'catching-up' | 'not-ready';

export interface FeedStatus {
  state: FeedState;
  reason: string;
  kafka: 'up' | 'down';
  /** Where the table being served came from. */
  source: 'none' | 'snapshot' | 'stream';
}

export interface PartitionPosition {
  topic: string;
  partition: number;
  /** Next offset to read. */
  next: string;
  /** Records between `next` and the last high watermark seen. */
  lag: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const split = (tp: string) => {
  const [topic, partition] = tp.split('\u0000');
  return { topic, partition: Number(partition) };
};

/**
 * Feeds the routing table from Kafka. Every gateway reads every partition
 * (a consumer group of its own, never shared), resumes from its snapshot's
 * offsets when it has one, applies events through the per-stream ordering
 * helper, and knows when it has caught up with the end offsets it saw at start.
 * Kafka being down is a state, not a crash: the connection is retried with
 * back-off, and the table keeps serving.
 */
export class EventFeed {
  private current: RoutingTable = new RoutingTable();
  /** The table served while `current` is rebuilt without the events of a fenced epoch. */
  private previous: RoutingTable | null = null;
  private rebuildReason: string | null = null;
  private rebuildAgain: string | null = null;
  private source: FeedStatus['source'] = 'none';
  fences = new Fences();
  rebuilds = 0;
  private readonly ordering: StreamOrdering<Located>;
  private offsets = new PartitionOffsets();
  /** Next offset to read per partition: from the snapshot, then from what was processed. */
  private readonly next = new Map<string, bigint>();
  private readonly highWatermarks = new Map<string, bigint>();
  /** End offsets seen when the feed connected: ready once `next` reaches them. */
  private targets: Map<string, bigint> | null = null;
  private caughtUp = false;
  private consumer?: Consumer;
  private admin?: Admin;
  private groupId?: string;
  private lastFetchAt = 0;
  private kafkaError: string | null = null;
  private stopped = false;
  private connecting?: Promise<void>;
  private refreshTimer?: NodeJS.Timeout;
  rejected = 0;

  constructor(private readonly options: EventFeedOptions) {
    this.ordering = new StreamOrdering<Located>({
      currentVersion: (streamId) => this.current.streamVersion(streamId),
      longWaitMs: 10_000,
      onLongWait: (wait) => options.logger.warn('gateway waits for a missing event', { ...wait }),
    });
  }

  /** The table to route with, or null while there is none worth serving (no snapshot, not caught up). */
  get table(): RoutingTable | null {
    return this.previous ?? (this.source === 'none' ? null : this.current);
  }

  /** The table being built, served or not: for tests and the snapshot. */
  get building(): RoutingTable {
    return this.current;
  }

  /** Replaces the empty table with a snapshot's, and resumes from its offsets. */
  restore(snapshot: Snapshot): void {
    this.current = RoutingTable.fromState(snapshot.table);
    this.fences = Fences.fromState(snapshot.fences);
    this.ordering.clear();
    for (const [topic, partitions] of Object.entries(snapshot.positions)) {
      for (const [partition, offset] of Object.entries(partitions)) this.next.set(key(topic, Number(partition)), BigInt(offset));
    }
    this.source = 'snapshot';
  }

  /** Connects in the background, retrying until it succeeds or `stop` is called. */
  start(): void {
    this.connecting ??= this.connectLoop().finally(() => (this.connecting = undefined));
    clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => void this.refreshHighWatermarks(), 5000);
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    await this.disconnect();
  }

  status(now = Date.now()): FeedStatus {
    const kafkaUp = this.consumer !== undefined && now - this.lastFetchAt < (this.options.staleAfterMs ?? 5000);
    const kafka = kafkaUp ? 'up' : 'down';
    const kafkaProblem = this.kafkaError ? `Kafka is unreachable: ${this.kafkaError}` : 'Kafka has not answered a fetch recently';
    if (this.previous)
      return {
        state: 'degraded',
        reason: `rebuilding the routing table without the events of a fenced epoch (${this.rebuildReason}); serving the previous one`,
        kafka,
        source: this.source,
      };
    if (this.caughtUp && kafkaUp) return { state: 'ready', reason: 'caught up with the event stream', kafka, source: this.source };
    if (this.source !== 'none' && !kafkaUp) {
      const from = this.source === 'snapshot' && !this.caughtUp ? 'its snapshot' : 'the events applied so far';
      return { state: 'degraded', reason: `${kafkaProblem}; serving the routing table from ${from}`, kafka, source: this.source };
    }
    const progress = `${this.lag()} records behind the end offsets seen at start`;
    if (this.source !== 'none')
      return { state: 'catching-up', reason: `catching up from the snapshot: ${progress}`, kafka, source: this.source };
    if (!kafkaUp) return { state: 'not-ready', reason: `no snapshot to serve, and ${kafkaProblem}`, kafka, source: this.source };
    return { state: 'not-ready', reason: `building the routing table from Kafka: ${progress}`, kafka, source: this.source };
  }

  /** Next offset per partition, safe to resume from: never past an event still held behind a gap. */
  positions(): Positions {
    const positions: Positions = {};
    const put = (topic: string, partition: number, offset: string) => ((positions[topic] ??= {})[String(partition)] = offset);
    for (const [tp, offset] of this.next) {
      const { topic, partition } = split(tp);
      put(topic, partition, offset.toString());
    }
    for (const { topic, partition, offset } of this.offsets.committable()) put(topic, partition, offset);
    return positions;
  }

  partitions(): PartitionPosition[] {
    const all = new Set([...this.next.keys(), ...this.highWatermarks.keys()]);
    return [...all].sort().map((tp) => {
      const { topic, partition } = split(tp);
      const next = this.next.get(tp) ?? 0n;
      const high = this.highWatermarks.get(tp) ?? next;
      return { topic, partition, next: next.toString(), lag: Number(high > next ? high - next : 0n) };
    });
  }

  /** Records behind the last high watermarks seen (or the start targets before any batch). */
  lag(): number {
    let lag = 0n;
    const tps = new Set([...this.highWatermarks.keys(), ...(this.targets?.keys() ?? [])]);
    for (const tp of tps) {
      const high = this.highWatermarks.get(tp) ?? this.targets?.get(tp) ?? 0n;
      const next = this.next.get(tp) ?? 0n;
      if (high > next) lag += high - next;
    }
    return Number(lag);
  }

  heldEvents(): number {
    return this.ordering.held();
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.connectOnce();
        this.kafkaError = null;
        return;
      } catch (error) {
        this.kafkaError = (error as Error).message;
        this.options.logger.warn('cannot follow the event stream yet; retrying', { attempt, error: this.kafkaError });
        await this.disconnect();
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const { kafka, topics, dc, gatewayId } = this.options;
    this.admin = kafka.admin();
    await this.admin.connect();
    // kafkajs answers false, not an error, for topics another process created meanwhile.
    await ensureTopics(this.admin, [...topics, ...this.options.writesTo]);
    const targets = new Map<string, bigint>();
    for (const topic of topics) {
      for (const { partition, high } of await this.admin.fetchTopicOffsets(topic)) targets.set(key(topic, partition), BigInt(high));
    }
    this.targets = targets;

    // A group of this process alone: every gateway reads every partition. Its start offsets are ours to set.
    this.groupId = `gateway-${dc}-${gatewayId}-${randomBytes(4).toString('hex')}`.slice(0, 200);
    for (const topic of topics) {
      const partitions = [...this.next.entries()]
        .map(([tp, offset]) => ({ ...split(tp), offset }))
        .filter((entry) => entry.topic === topic)
        .map(({ partition, offset }) => ({ partition, offset: offset.toString() }));
      if (partitions.length > 0) await this.admin.setOffsets({ groupId: this.groupId, topic, partitions });
    }
    this.checkCaughtUp();

    const consumer = kafka.consumer({
      groupId: this.groupId,
      // Mirrors are written in transactions; waiting for their commit markers costs tens of ms per change
      // (more on a busy broker). A record of an aborted mirror transaction is an event the source DC holds
      // durably and the replicator writes again; applying it early changes nothing (versions make a second
      // copy a no-op), so the gateway reads uncommitted.
      readUncommitted: true,
      // How long the broker holds a fetch that finds nothing: a record that arrives ends the wait at once, so
      // this bounds idle polling, not latency. Each empty answer costs a pass over every partition (100 ms
      // was 4 % of an idle gateway's event loop); it stays well inside the 5 s after which Kafka counts as down.
      maxWaitTimeInMs: 500,
      maxBytes: 16 * 1024 * 1024,
      sessionTimeout: 30_000,
      retry: { retries: 1_000_000, initialRetryTime: 250, maxRetryTime: 5000 },
    });
    consumer.on(consumer.events.FETCH, () => (this.lastFetchAt = Date.now()));
    // A batch of markers only (the end of a transactional mirror) never reaches eachBatch.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) {
        this.passed(payload.topic, payload.partition, payload.lastOffset);
        this.highWatermarks.set(key(payload.topic, payload.partition), BigInt(payload.highWatermark));
        this.checkCaughtUp();
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.options.logger.warn('event consumer crashed', { error: payload.error.message, restart: payload.restart });
      if (!payload.restart && !this.stopped) void this.disconnect().then(() => this.start());
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  private async disconnect(): Promise<void> {
    const consumer = this.consumer;
    const admin = this.admin;
    const groupId = this.groupId;
    this.consumer = undefined;
    this.admin = undefined;
    await consumer?.disconnect().catch(() => undefined);
    // The group only held this process's positions: leave nothing behind in Kafka.
    if (admin && groupId && consumer) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    let complete = true;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.rebuildReason) {
        complete = false;
        break;
      }
      await this.onMessage(batch.topic, batch.partition, message);
    }
    if (this.rebuildReason) return;
    // A mirror is written in transactions: its commit markers take offsets but are never delivered.
    if (complete) this.passed(batch.topic, batch.partition, batch.lastOffset());
    this.highWatermarks.set(key(batch.topic, batch.partition), BigInt(batch.highWatermark));
    this.lastFetchAt = Date.now();
    this.checkCaughtUp();
    if (this.consumer) {
      await this.consumer.commitOffsets(this.offsets.committable()).catch(() => undefined);
    }
    await heartbeat();
  }

  private async onMessage(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const decoded = decodeEvent({ value: message.value, headers: message.headers });
    if (!decoded.ok) {
      this.rejected++;
      this.options.logger.warn('invalid record sent to the DLQ', { topic, partition, offset: message.offset, reason: decoded.reason });
      await this.options
        .deadLetter(deadLetterOf(topic, partition, message, decoded.reason))
        .catch((error: Error) => this.options.logger.warn('could not write to the DLQ', { error: error.message }));
      this.processed(topic, partition, message.offset);
      return;
    }
    const envelope = decoded.envelope;
    if (this.fences.excludes(envelope)) {
      this.processed(topic, partition, message.offset);
      return;
    }
    const fence = fenceOf(envelope, this.current);
    if (fence && this.fences.add(fence.rule) && fence.reachesApplied) {
      const reason = `${envelope.type} of ${envelope.originDc} in epoch ${envelope.epoch} fences ${fence.rule.streamId}`;
      if (!this.previous) {
        // This record is read again by the rebuild, which applies it on a history without the fenced events.
        this.rebuildWithoutFenced(reason);
        return;
      }
      // Already rebuilding: learn every fence of this pass first, and rebuild once more at its end.
      this.rebuildAgain ??= reason;
    }
    const located: Located = {
      envelope,
      topic,
      partition,
      offset: message.offset,
      streamId: envelope.streamId,
      version: envelope.version,
      eventId: envelope.eventId,
    };
    const { ready, held } = await this.ordering.admit(located);
    // From here on, synchronous: a snapshot never sees an event applied without its offset, or the reverse.
    // Only the copy that waits holds its offset: a second copy of a waiting event would never be released.
    if (held) this.offsets.hold(topic, partition, message.offset);
    for (const event of ready) {
      this.current.apply(event.envelope);
      this.offsets.release(event.topic, event.partition, event.offset);
    }
    this.processed(topic, partition, message.offset);
  }

  /**
   * The table holds events a fence now excludes: build a new one from the
   * beginning of every topic, with every fence known, and serve the old one
   * until the new one has caught up. Runs once the current batch has returned
   * (a consumer cannot be stopped from inside its own batch).
   */
  private rebuildWithoutFenced(reason: string): void {
    if (this.rebuildReason) return;
    this.rebuildReason = reason;
    this.rebuilds++;
    this.options.logger.warn('routing table holds events of a fenced epoch; rebuilding it', { reason });
    setImmediate(() => void this.restartFromTheBeginning());
  }

  private async restartFromTheBeginning(): Promise<void> {
    this.previous = this.table;
    await this.disconnect();
    this.current = new RoutingTable();
    this.ordering.clear();
    this.offsets = new PartitionOffsets();
    this.next.clear();
    this.highWatermarks.clear();
    this.targets = null;
    this.caughtUp = false;
    this.rebuildReason = null;
    if (!this.stopped) this.start();
  }

  /** Records up to `lastOffset` were all seen (the last ones may be transaction markers). */
  private passed(topic: string, partition: number, lastOffset: string): void {
    if (BigInt(lastOffset) + 1n > (this.next.get(key(topic, partition)) ?? 0n)) this.processed(topic, partition, lastOffset);
  }

  private processed(topic: string, partition: number, offset: string): void {
    this.offsets.markProcessed(topic, partition, offset);
    this.next.set(key(topic, partition), BigInt(offset) + 1n);
  }

  private checkCaughtUp(): void {
    if (this.caughtUp || !this.targets) return;
    for (const [tp, target] of this.targets) if ((this.next.get(tp) ?? 0n) < target) return;
    if (this.rebuildAgain) {
      this.rebuildWithoutFenced(this.rebuildAgain);
      this.rebuildAgain = null;
      return;
    }
    this.caughtUp = true;
    this.source = 'stream';
    this.previous = null;
    this.options.logger.info('caught up with the event stream', { applied: this.current.applied, ...this.current.counts() });
  }

  private async refreshHighWatermarks(): Promise<void> {
    const admin = this.admin;
    if (!admin || !this.consumer) return;
    try {
      for (const topic of this.options.topics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic))
          this.highWatermarks.set(key(topic, partition), BigInt(high));
      }
    } catch {
      // Reported through the fetch timestamps; nothing to add here.
    }
  }
}
