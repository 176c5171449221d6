/** What the helper needs of an event: its stream, its 1-based position there, and its identity. */
export interface StreamEvent {
  streamId: string;
  version: number;
  eventId: string;
}

/** A stream whose next event has been missing for a while (see `checkWaits`). */
export interface LongWait {
  streamId: string;
  /** The version whose arrival would release the held ones. */
  waitingFor: number;
  /** Versions held behind the gap, ascending. */
  heldVersions: number[];
  /** Since the oldest of them was held. */
  waitedMs: number;
}

export interface StreamOrderingOptions {
  /**
   * The last version already applied to `streamId` (0 for a new stream), read
   * from where the caller applies events (its store, its projection). Asked
   * once per stream, and again before holding an event behind a gap, in case
   * the stream moved on by another path (e.g. a local write).
   */
  currentVersion: (streamId: string) => number | Promise<number>;
  /** Called by `checkWaits` for each stream that has waited `longWaitMs` or more. */
  onLongWait?: (wait: LongWait) => void;
  /** Default 30 000. */
  longWaitMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
  /**
   * Streams whose applied version is remembered; beyond this the least
   * recently seen ones without held events are forgotten and looked up again
   * if they come back. Default 100 000.
   */
  maxTrackedStreams?: number;
}

interface HeldVersion<T> {
  events: T[];
  since: number;
}

interface StreamState<T> {
  applied: number;
  held: Map<number, HeldVersion<T>>;
}

/**
 * Per-stream ordering for every consumer of events (importer, projections,
 * gateways): events of one stream may arrive twice, or out of order when they
 * travel on different DCs' topics. `offer` answers which events are now ready
 * to apply, in version order:
 *
 * - version <= applied: a duplicate, ignored;
 * - version == applied + 1: ready, together with the held successors it makes contiguous;
 * - version > applied + 1: held until the gap fills.
 *
 * The caller applies what `offer` returns, in order, before its next offer for
 * that stream: the helper counts them as applied (no confirmation call). Two
 * different events at one version (a conflict between DCs) are both returned,
 * in arrival order; the caller's store decides. Pure logic: no Kafka here.
 */
export class StreamOrdering<T extends StreamEvent> {
  private readonly streams = new Map<string, StreamState<T>>();
  private readonly lookups = new Map<string, Promise<number>>();
  private readonly holding = new Set<string>();
  private heldCount = 0;
  private readonly longWaitMs: number;
  private readonly now: () => number;
  private readonly maxTrackedStreams: number;

  constructor(private readonly options: StreamOrderingOptions) {
    this.longWaitMs = options.longWaitMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.maxTrackedStreams = Math.max(1, options.maxTrackedStreams ?? 100_000);
  }

  /** The events that are now ready to apply, in order; [] for a duplicate or a held event. */
  async offer(event: T): Promise<T[]> {
    if (!Number.isSafeInteger(event.version) || event.version < 1) {
      throw new RangeError(`stream ${event.streamId}: version must be an integer >= 1`);
    }
    const known = this.streams.get(event.streamId);
    let state = known ? this.touch(event.streamId, known) : await this.load(event.streamId, 0);
    if (known && event.version > state.applied + 1 && !this.isHeld(event)) {
      state = await this.load(event.streamId, state.applied);
    }
    if (event.version > state.applied) this.hold(event.streamId, state, event);
    return this.drain(event.streamId, state);
  }

  /**
   * `offer`, and whether this very offer left the event waiting behind a gap:
   * false for a second copy of an event already waiting (a record read twice,
   * as a mirror holds after an aborted transaction), whose first copy keeps
   * its place. A consumer that holds back its committed offset for waiting
   * events holds it for the first copy only: the second is never released.
   */
  async admit(event: T): Promise<{ ready: T[]; held: boolean }> {
    const waitingBefore = this.isHeld(event);
    const ready = await this.offer(event);
    return { ready, held: !waitingBefore && ready.length === 0 && this.isHeld(event) };
  }

  /** Whether `event` (same stream, version and id) is waiting behind a gap. */
  isHeld(event: T): boolean {
    return (
      this.streams
        .get(event.streamId)
        ?.held.get(event.version)
        ?.events.some((e) => e.eventId === event.eventId) ?? false
    );
  }

  /** How many events are held behind gaps. */
  held(): number {
    return this.heldCount;
  }

  /** The streams that have events held behind a gap. */
  heldStreams(): string[] {
    return [...this.holding];
  }

  /** Age of the oldest held event, 0 when none is held: a metric for "stuck waiting". */
  oldestHeldAgeMs(): number {
    let oldest = Infinity;
    for (const streamId of this.holding) oldest = Math.min(oldest, this.oldestSince(this.streams.get(streamId)!));
    return oldest === Infinity ? 0 : Math.max(0, this.now() - oldest);
  }

  /**
   * Reports, through `onLongWait`, every stream that has waited `longWaitMs`
   * or more for a missing event, and returns them. Reports again on each call
   * while the wait lasts; the caller runs it periodically.
   */
  checkWaits(): LongWait[] {
    const now = this.now();
    const waits: LongWait[] = [];
    for (const streamId of this.holding) {
      const state = this.streams.get(streamId)!;
      const waitedMs = now - this.oldestSince(state);
      if (waitedMs < this.longWaitMs) continue;
      waits.push({ streamId, waitingFor: state.applied + 1, heldVersions: [...state.held.keys()].sort((a, b) => a - b), waitedMs });
    }
    for (const wait of waits) this.options.onLongWait?.(wait);
    return waits;
  }

  /** Forgets everything, held events included (e.g. after a consumer rebalance, when they will be read again). */
  clear(): void {
    this.streams.clear();
    this.holding.clear();
    this.heldCount = 0;
  }

  /** Looks the stream's applied version up (one lookup at a time per stream), never going below `floor` or what is already known. */
  private async load(streamId: string, floor: number): Promise<StreamState<T>> {
    let pending = this.lookups.get(streamId);
    if (!pending) {
      pending = (async () => this.options.currentVersion(streamId))();
      this.lookups.set(streamId, pending);
      const forget = () => this.lookups.delete(streamId);
      pending.then(forget, forget);
    }
    const applied = await pending;
    if (!Number.isSafeInteger(applied) || applied < 0) throw new RangeError(`stream ${streamId}: currentVersion must be an integer >= 0`);
    const state = this.streams.get(streamId);
    if (state) {
      state.applied = Math.max(state.applied, applied, floor);
      this.dropStale(streamId, state);
      return this.touch(streamId, state);
    }
    const created: StreamState<T> = { applied: Math.max(applied, floor), held: new Map() };
    this.streams.set(streamId, created);
    this.evict();
    return created;
  }

  private hold(streamId: string, state: StreamState<T>, event: T): void {
    const slot = state.held.get(event.version);
    if (slot?.events.some((e) => e.eventId === event.eventId)) return;
    if (slot) slot.events.push(event);
    else state.held.set(event.version, { events: [event], since: this.now() });
    this.heldCount++;
    this.holding.add(streamId);
  }

  /** Releases the held versions that follow `applied` without a gap, counting them as applied. */
  private drain(streamId: string, state: StreamState<T>): T[] {
    const ready: T[] = [];
    for (let next = state.held.get(state.applied + 1); next; next = state.held.get(state.applied + 1)) {
      state.held.delete(state.applied + 1);
      this.heldCount -= next.events.length;
      ready.push(...next.events);
      state.applied++;
    }
    if (state.held.size === 0) this.holding.delete(streamId);
    return ready;
  }

  /** Drops held events the stream has already reached by another path. */
  private dropStale(streamId: string, state: StreamState<T>): void {
    for (const [version, slot] of state.held) {
      if (version > state.applied) continue;
      state.held.delete(version);
      this.heldCount -= slot.events.length;
    }
    if (state.held.size === 0) this.holding.delete(streamId);
  }

  private oldestSince(state: StreamState<T>): number {
    let oldest = Infinity;
    for (const slot of state.held.values()) oldest = Math.min(oldest, slot.since);
    return oldest;
  }

  /** Marks a stream as recently seen (Map order is the eviction order). */
  private touch(streamId: string, state: StreamState<T>): StreamState<T> {
    this.streams.delete(streamId);
    this.streams.set(streamId, state);
    return state;
  }

  private evict(): void {
    if (this.streams.size <= this.maxTrackedStreams) return;
    for (const [streamId, state] of this.streams) {
      if (this.streams.size <= this.maxTrackedStreams) return;
      if (state.held.size === 0) this.streams.delete(streamId);
    }
  }
}
