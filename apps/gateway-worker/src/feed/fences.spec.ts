import { EventEnvelope } from '@apim/events';
import { AppliedStreams, fenceOf, Fences } from './fences';

const EVENT_ID = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';

function event(streamId: string, version: number, epoch: number, type = 'api.updated', payload: unknown = { name: 'x' }): EventEnvelope {
  return {
    eventId: EVENT_ID,
    type,
    schemaVersion: 1,
    streamId,
    streamType: 'api',
    version,
    originDc: 'dc1',
    epoch,
    occurredAt: '2026-12-01T00:00:00.000Z',
    correlationId: 'c',
    causationId: null,
    actor: null,
    payload,
  };
}

function divergenceRecorded(streamId: string, version: number, fencedInEpoch: number): EventEnvelope {
  return {
    ...event(`divergence:${EVENT_ID}`, 1, fencedInEpoch, 'divergence.recorded', {
      eventId: EVENT_ID,
      streamId,
      streamType: 'api',
      version,
      type: 'api.updated',
      originDc: 'dc1',
      epoch: fencedInEpoch - 1,
      fencedInEpoch,
    }),
    streamType: 'divergence',
    originDc: 'dc2',
  };
}

const applied = (
  streams: Record<string, [version: number, epoch: number]>,
  firsts: Record<string, { eventId: string; originDc: string }> = {},
): AppliedStreams => ({
  streamVersion: (id) => streams[id]?.[0] ?? 0,
  streamEpoch: (id) => streams[id]?.[1] ?? 0,
  firstEvent: (id) => firsts[id],
});

describe('Fences', () => {
  it('excludes the events of a stream from a version on, written before an epoch, and nothing else', () => {
    const fences = new Fences();
    fences.add({ streamId: 'a', fromVersion: 3, belowEpoch: 2 });
    expect(fences.excludes(event('a', 3, 1))).toBe(true);
    expect(fences.excludes(event('a', 4, 1))).toBe(true);
    expect(fences.excludes(event('a', 2, 1))).toBe(false);
    expect(fences.excludes(event('a', 3, 2))).toBe(false);
    expect(fences.excludes(event('b', 3, 1))).toBe(false);
  });

  it('adds a rule only when no known one covers it, and survives its own state', () => {
    const fences = new Fences();
    expect(fences.add({ streamId: 'a', fromVersion: 3, belowEpoch: 2 })).toBe(true);
    expect(fences.add({ streamId: 'a', fromVersion: 4, belowEpoch: 2 })).toBe(false);
    expect(fences.add({ streamId: 'a', fromVersion: 2, belowEpoch: 2 })).toBe(true);
    const restored = Fences.fromState(JSON.parse(JSON.stringify(fences.toState())));
    expect(restored.size).toBe(2);
    expect(restored.excludes(event('a', 2, 1))).toBe(true);
  });
});

describe('fenceOf', () => {
  it('turns a divergence.recorded into a rule, which reaches the table when it applied the fenced version from an older epoch', () => {
    expect(fenceOf(divergenceRecorded('a', 3, 2), applied({ a: [3, 1] }))).toEqual({
      rule: { streamId: 'a', fromVersion: 3, belowEpoch: 2 },
      reachesApplied: true,
    });
    // Not applied yet: the rule will simply skip it.
    expect(fenceOf(divergenceRecorded('a', 3, 2), applied({ a: [2, 1] }))?.reachesApplied).toBe(false);
    // The table already follows the new primary's version of the stream.
    expect(fenceOf(divergenceRecorded('a', 3, 2), applied({ a: [4, 2] }))?.reachesApplied).toBe(false);
  });

  it('sees a newer epoch rewriting a version the table holds from an older one', () => {
    expect(fenceOf(event('a', 3, 2), applied({ a: [4, 1] }))).toEqual({
      rule: { streamId: 'a', fromVersion: 3, belowEpoch: 2 },
      reachesApplied: true,
    });
  });

  it('settles one stream id created in two DCs by the smaller event id, fencing the other DC branch', () => {
    const earlier = '0192f3a4-0000-7000-8000-000000000000';
    const later = '0192f3a4-ffff-7000-8000-000000000000';
    const fromDc2 = (eventId: string) => ({ ...event('policy:gold', 1, 0, 'policy.created'), eventId, originDc: 'dc2' });
    // The table holds dc1's later claim: dc2's earlier one wins, and dc1's branch was applied.
    expect(fenceOf(fromDc2(earlier), applied({ 'policy:gold': [1, 0] }, { 'policy:gold': { eventId: later, originDc: 'dc1' } }))).toEqual({
      rule: { streamId: 'policy:gold', fromVersion: 1, belowEpoch: Number.MAX_SAFE_INTEGER, originDc: 'dc1' },
      reachesApplied: true,
    });
    // The table holds the earlier claim: dc2's branch is fenced, nothing to rebuild.
    const kept = fenceOf(fromDc2(later), applied({ 'policy:gold': [1, 0] }, { 'policy:gold': { eventId: earlier, originDc: 'dc1' } }));
    expect(kept).toEqual({
      rule: { streamId: 'policy:gold', fromVersion: 1, belowEpoch: Number.MAX_SAFE_INTEGER, originDc: 'dc2' },
      reachesApplied: false,
    });
    const fences = new Fences();
    fences.add(kept!.rule);
    expect(fences.excludes({ streamId: 'policy:gold', version: 2, epoch: 5, originDc: 'dc2' })).toBe(true);
    expect(fences.excludes({ streamId: 'policy:gold', version: 2, epoch: 5, originDc: 'dc1' })).toBe(false);
  });

  it('says nothing of the next version, a duplicate, or an older epoch', () => {
    expect(fenceOf(event('a', 5, 2), applied({ a: [4, 1] }))).toBeNull();
    expect(fenceOf(event('a', 4, 1), applied({ a: [4, 1] }))).toBeNull();
    expect(fenceOf(event('a', 2, 1), applied({ a: [4, 2] }))).toBeNull();
  });
});
