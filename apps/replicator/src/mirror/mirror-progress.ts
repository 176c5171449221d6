import type { ReplicationPartition } from '@apim/events';

interface PartitionState {
  topic: string;
  partition: number;
  /** Next source offset to mirror: everything before it is committed in the target. */
  next: bigint;
  /** The source partition's end offset, as last seen. */
  end: bigint;
  /** When this partition was first seen behind (null while caught up). */
  behindSince: number | null;
  /** Source timestamp of the oldest record being mirrored right now (null when none). */
  pendingSince: number | null;
}

const RATE_WINDOW_MS = 10_000;

/**
 * Where the mirror of one source DC stands, per source partition: the basis of
 * the replicator's lag figures (heartbeats, `/metrics`, `/readyz`). Pure: the
 * caller passes the clock.
 */
export class MirrorProgress {
  private readonly partitions = new Map<string, PartitionState>();
  private readonly window: { at: number; records: number }[] = [];
  private lastSourceContact = 0;
  mirroredTotal = 0;

  private state(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, next: 0n, end: 0n, behindSince: null, pendingSince: null };
      this.partitions.set(key, state);
    }
    return state;
  }

  /** The checkpoint a (re)started mirror resumes from. */
  resumeFrom(topic: string, partition: number, next: bigint): void {
    this.state(topic, partition).next = next;
  }

  /** The source answered (a fetch or an offsets request). */
  sourceAnswered(now: number): void {
    this.lastSourceContact = now;
  }

  /** Time since the source last answered, in ms. */
  sourceSilentFor(now: number): number {
    return this.lastSourceContact === 0 ? Number.POSITIVE_INFINITY : now - this.lastSourceContact;
  }

  observeEnd(topic: string, partition: number, end: bigint, now: number): void {
    const state = this.state(topic, partition);
    if (end > state.end) state.end = end;
    this.updateBehind(state, now);
  }

  /** A batch starting with a record stamped `firstTimestamp` is being mirrored. */
  pending(topic: string, partition: number, firstTimestamp: number): void {
    this.state(topic, partition).pendingSince = firstTimestamp;
  }

  /** A batch is committed in the target: the mirror now holds everything before `next`. */
  mirrored(topic: string, partition: number, next: bigint, records: number, now: number): void {
    const state = this.state(topic, partition);
    if (next > state.next) state.next = next;
    if (next > state.end) state.end = next;
    state.pendingSince = null;
    this.updateBehind(state, now);
    this.mirroredTotal += records;
    this.window.push({ at: now, records });
    this.trimWindow(now);
  }

  /** A batch was abandoned (the session restarts from the checkpoint). */
  abandoned(topic: string, partition: number): void {
    this.state(topic, partition).pendingSince = null;
  }

  recordsPerSecond(now: number): number {
    this.trimWindow(now);
    const records = this.window.reduce((sum, entry) => sum + entry.records, 0);
    return Math.round((records * 1000) / RATE_WINDOW_MS);
  }

  /**
   * Per partition: records and ms behind. The ms figure is the age of the
   * oldest source record not yet mirrored when it is known, else the time
   * since the partition was first seen behind; while the source does not
   * answer, at least the time since it last did.
   */
  report(now: number, sourceDownAfterMs: number): ReplicationPartition[] {
    const silent = this.sourceSilentFor(now);
    const sourceDown = silent > sourceDownAfterMs;
    return [...this.partitions.values()]
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
      .map((state) => {
        const lagRecords = state.end > state.next ? Number(state.end - state.next) : 0;
        let lagMs = 0;
        if (lagRecords > 0) {
          const since = Math.min(state.pendingSince ?? Number.POSITIVE_INFINITY, state.behindSince ?? now);
          lagMs = Math.max(0, now - since);
        }
        if (sourceDown) lagMs = Math.max(lagMs, Number.isFinite(silent) ? silent : 0);
        return {
          topic: state.topic,
          partition: state.partition,
          next: state.next.toString(),
          end: state.end.toString(),
          lagRecords,
          lagMs: Math.round(lagMs),
        };
      });
  }

  private updateBehind(state: PartitionState, now: number): void {
    if (state.end > state.next) state.behindSince ??= now;
    else state.behindSince = null;
  }

  private trimWindow(now: number): void {
    while (this.window.length > 0 && this.window[0].at < now - RATE_WINDOW_MS) this.window.shift();
  }
}
