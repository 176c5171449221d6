import { LongWait, StreamOrdering } from './stream-ordering';

interface Event {
  streamId: string;
  version: number;
  eventId: string;
}

const ev = (version: number, streamId = 's1', eventId = `${streamId}-${version}`): Event => ({ streamId, version, eventId });
const versions = (events: Event[]) => events.map((e) => e.version);

function ordering(applied: Record<string, number> = {}, options: { longWaitMs?: number; onLongWait?: (wait: LongWait) => void } = {}) {
  let clock = 1_000;
  const lookups: string[] = [];
  const helper = new StreamOrdering<Event>({
    currentVersion: (streamId) => {
      lookups.push(streamId);
      return applied[streamId] ?? 0;
    },
    now: () => clock,
    ...options,
  });
  return { helper, lookups, advance: (ms: number) => (clock += ms), applied };
}

describe('StreamOrdering', () => {
  it('releases the next version at once', async () => {
    const { helper } = ordering({ s1: 2 });
    expect(versions(await helper.offer(ev(3)))).toEqual([3]);
    expect(versions(await helper.offer(ev(4)))).toEqual([4]);
  });

  it('ignores a duplicate of an applied version', async () => {
    const { helper } = ordering({ s1: 2 });
    expect(await helper.offer(ev(2))).toEqual([]);
    expect(await helper.offer(ev(1))).toEqual([]);
    await helper.offer(ev(3));
    expect(await helper.offer(ev(3))).toEqual([]);
    expect(helper.held()).toBe(0);
  });

  it('holds an event behind a gap and releases it in order when the gap fills', async () => {
    const { helper } = ordering();
    expect(await helper.offer(ev(3))).toEqual([]);
    expect(await helper.offer(ev(2))).toEqual([]);
    expect(helper.held()).toBe(2);
    expect(helper.isHeld(ev(3))).toBe(true);
    expect(helper.heldStreams()).toEqual(['s1']);
    expect(versions(await helper.offer(ev(1)))).toEqual([1, 2, 3]);
    expect(helper.held()).toBe(0);
    expect(helper.heldStreams()).toEqual([]);
    expect(helper.isHeld(ev(3))).toBe(false);
  });

  it('releases only the contiguous part of what it holds', async () => {
    const { helper } = ordering();
    await helper.offer(ev(2));
    await helper.offer(ev(4));
    expect(versions(await helper.offer(ev(1)))).toEqual([1, 2]);
    expect(helper.held()).toBe(1);
    expect(versions(await helper.offer(ev(3)))).toEqual([3, 4]);
  });

  it('keeps streams apart', async () => {
    const { helper } = ordering({ b: 5 });
    expect(await helper.offer(ev(2, 'a'))).toEqual([]);
    expect(versions(await helper.offer(ev(6, 'b')))).toEqual([6]);
    expect(helper.heldStreams()).toEqual(['a']);
  });

  it('offering the same events twice changes nothing', async () => {
    const { helper } = ordering();
    const events = [ev(2), ev(4), ev(1), ev(3), ev(5)];
    const firstTime = [];
    for (const e of events) firstTime.push(...(await helper.offer(e)));
    expect(versions(firstTime)).toEqual([1, 2, 3, 4, 5]);
    const secondTime = [];
    for (const e of events) secondTime.push(...(await helper.offer(e)));
    expect(secondTime).toEqual([]);
    expect(helper.held()).toBe(0);
  });

  it('holds a re-offered held event once', async () => {
    const { helper } = ordering();
    await helper.offer(ev(3));
    await helper.offer(ev(3));
    expect(helper.held()).toBe(1);
    expect(versions(await helper.offer(ev(2)))).toEqual([]);
    expect(versions(await helper.offer(ev(1)))).toEqual([1, 2, 3]);
  });

  it('says which offer left an event waiting: the first copy, not a second one, nor one released at once', async () => {
    const { helper } = ordering();
    // Copies of one event, with where each was read: only the first is released, with its own place.
    const first = { ...ev(2), at: 'offset 7' };
    const copy = { ...ev(2), at: 'offset 9' };
    expect(await helper.admit(first)).toEqual({ ready: [], held: true });
    expect(await helper.admit(copy)).toEqual({ ready: [], held: false });
    expect(await helper.admit(ev(1))).toEqual({ ready: [ev(1), first], held: false });
    expect(await helper.admit(ev(3))).toEqual({ ready: [ev(3)], held: false });
  });

  it('releases two different events at one version both, in arrival order, for the caller to settle', async () => {
    const { helper } = ordering();
    await helper.offer(ev(2, 's1', 'from-dc1'));
    await helper.offer(ev(2, 's1', 'from-dc2'));
    expect((await helper.offer(ev(1))).map((e) => e.eventId)).toEqual(['s1-1', 'from-dc1', 'from-dc2']);
  });

  it('looks a stream up once, then counts what it released', async () => {
    const { helper, lookups } = ordering({ s1: 1 });
    await helper.offer(ev(2));
    await helper.offer(ev(3));
    await helper.offer(ev(3));
    expect(lookups).toEqual(['s1']);
  });

  it('looks again before holding, in case the stream moved on by another path', async () => {
    const { helper, lookups, applied } = ordering({ s1: 1 });
    await helper.offer(ev(2));
    applied.s1 = 4; // e.g. local writes the helper never saw
    expect(versions(await helper.offer(ev(5)))).toEqual([5]);
    expect(lookups).toEqual(['s1', 's1']);
  });

  it('shares one lookup between concurrent offers of a new stream', async () => {
    let calls = 0;
    const helper = new StreamOrdering<Event>({ currentVersion: async () => (calls++, 0) });
    const [a, b] = await Promise.all([helper.offer(ev(1)), helper.offer(ev(2))]);
    expect(calls).toBe(1);
    expect(versions([...a, ...b])).toEqual([1, 2]);
  });

  it('forgets idle streams beyond its limit and looks them up again', async () => {
    const store: Record<string, number> = {};
    const lookups: string[] = [];
    const helper = new StreamOrdering<Event>({ currentVersion: (id) => (lookups.push(id), store[id] ?? 0), maxTrackedStreams: 2 });
    const apply = async (e: Event) => {
      const ready = await helper.offer(e);
      for (const r of ready) store[r.streamId] = r.version;
      return ready;
    };
    await apply(ev(2, 'held'));
    await apply(ev(1, 'a'));
    await apply(ev(1, 'b'));
    expect(versions(await apply(ev(2, 'a')))).toEqual([2]);
    expect(helper.held()).toBe(1);
    expect(versions(await apply(ev(1, 'held')))).toEqual([1, 2]);
    expect(lookups).toEqual(['held', 'a', 'b', 'a']);
  });

  it('reports a gap that lasts longer than longWaitMs', async () => {
    const waits: LongWait[] = [];
    const { helper, advance } = ordering({ s1: 1 }, { longWaitMs: 10_000, onLongWait: (wait) => waits.push(wait) });
    await helper.offer(ev(4));
    advance(3_000);
    await helper.offer(ev(3));
    advance(6_000);
    expect(helper.checkWaits()).toEqual([]);
    expect(helper.oldestHeldAgeMs()).toBe(9_000);
    advance(1_000);
    expect(helper.checkWaits()).toEqual([{ streamId: 's1', waitingFor: 2, heldVersions: [3, 4], waitedMs: 10_000 }]);
    expect(waits).toHaveLength(1);
    await helper.offer(ev(2));
    expect(helper.checkWaits()).toEqual([]);
    expect(helper.oldestHeldAgeMs()).toBe(0);
  });

  it('starts over after clear()', async () => {
    const { helper } = ordering();
    await helper.offer(ev(2));
    helper.clear();
    expect(helper.held()).toBe(0);
    expect(versions(await helper.offer(ev(1)))).toEqual([1]);
  });

  it('refuses a version that is not a positive integer', async () => {
    const { helper } = ordering();
    await expect(helper.offer(ev(0))).rejects.toThrow(RangeError);
  });
});
