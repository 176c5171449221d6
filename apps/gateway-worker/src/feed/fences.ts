import { EventEnvelope, isEventOf } from '@apim/events';

/**
 * Events of `streamId` from `fromVersion` on, written in an epoch before
 * `belowEpoch` (and by `originDc`, when given), are not part of the history.
 */
export interface FenceRule {
  streamId: string;
  fromVersion: number;
  belowEpoch: number;
  originDc?: string;
}

/** No epoch reaches it: a rule that fences a DC's branch of a stream whatever the epoch. */
const EVERY_EPOCH = Number.MAX_SAFE_INTEGER;

/** What a gateway must know of a stream it has applied, to tell whether a fence reaches back into it. */
export interface AppliedStreams {
  streamVersion(streamId: string): number;
  /** Epoch of the last event applied to the stream (0 when none). */
  streamEpoch(streamId: string): number;
  /** The first event applied to a stream whose id two DCs can both create (a policy, a subscription, a user). */
  firstEvent(streamId: string): { eventId: string; originDc: string } | undefined;
}

export interface FencesState {
  rules: FenceRule[];
}

/**
 * The events of fenced epochs (DESIGN.md section 7), as a gateway learns them
 * from the stream itself:
 * - a `divergence.recorded` from the primary that refused an event: that
 *   event and what follows it in its stream from older epochs;
 * - an event of a newer epoch at a version this gateway already holds from
 *   an older one (the new primary never had that version): the older events
 *   from that version on;
 * - (active-active) a version 1 of a stream id the gateway holds from another
 *   DC: the same id created twice, where the smaller event id wins in every
 *   DC; the other DC's branch of the stream is fenced.
 * Rules are kept across rebuilds and in the snapshot, and only ever added.
 */
export class Fences {
  private readonly byStream = new Map<string, FenceRule[]>();

  static fromState(state: FencesState | undefined): Fences {
    const fences = new Fences();
    for (const rule of state?.rules ?? []) fences.add(rule);
    return fences;
  }

  toState(): FencesState {
    return { rules: [...this.byStream.values()].flat() };
  }

  get size(): number {
    let n = 0;
    for (const rules of this.byStream.values()) n += rules.length;
    return n;
  }

  /** Whether `event` is fenced by a rule already known. */
  excludes(event: Pick<EventEnvelope, 'streamId' | 'version' | 'epoch' | 'originDc'>): boolean {
    return this.byStream.get(event.streamId)?.some((rule) => covers(rule, event)) ?? false;
  }

  /** Adds a rule; false when an existing one already covers it. */
  add(rule: FenceRule): boolean {
    const rules = this.byStream.get(rule.streamId) ?? [];
    const covered = (known: FenceRule) =>
      known.fromVersion <= rule.fromVersion &&
      known.belowEpoch >= rule.belowEpoch &&
      (known.originDc === undefined || known.originDc === rule.originDc);
    if (rules.some(covered)) return false;
    rules.push({ ...rule });
    this.byStream.set(rule.streamId, rules);
    return true;
  }
}

/**
 * The fence an incoming event announces, and whether the table built so far
 * already holds events it fences (then it must be rebuilt without them).
 */
export function fenceOf(event: EventEnvelope, applied: AppliedStreams): { rule: FenceRule; reachesApplied: boolean } | null {
  if (isEventOf(event, 'divergence.recorded')) {
    const { streamId, version, fencedInEpoch } = event.payload;
    const rule = { streamId, fromVersion: version, belowEpoch: fencedInEpoch };
    // A stream whose last event comes from the fencing epoch or later was rebuilt by the new primary on a base without it.
    const reachesApplied = applied.streamVersion(streamId) >= version && applied.streamEpoch(streamId) < fencedInEpoch;
    return { rule, reachesApplied };
  }
  if (event.version <= applied.streamVersion(event.streamId) && event.epoch > applied.streamEpoch(event.streamId)) {
    return { rule: { streamId: event.streamId, fromVersion: event.version, belowEpoch: event.epoch }, reachesApplied: true };
  }
  const first = event.version === 1 ? applied.firstEvent(event.streamId) : undefined;
  if (first && first.originDc !== event.originDc && first.eventId !== event.eventId) {
    const incomingWins = event.eventId < first.eventId;
    const loser = incomingWins ? first.originDc : event.originDc;
    return { rule: { streamId: event.streamId, fromVersion: 1, belowEpoch: EVERY_EPOCH, originDc: loser }, reachesApplied: incomingWins };
  }
  return null;
}

function covers(rule: FenceRule, event: Pick<EventEnvelope, 'version' | 'epoch' | 'originDc'>): boolean {
  return (
    event.version >= rule.fromVersion && event.epoch < rule.belowEpoch && (rule.originDc === undefined || rule.originDc === event.originDc)
  );
}
