import { UsageBatchReader, UsageBatchWriter, UsageFields } from './usage-batch';

const fields = (i: number, over: Partial<UsageFields> = {}): UsageFields => ({
  apiId: `api-${i % 3}`,
  applicationId: i % 4 === 0 ? null : `app-${i % 5}`,
  method: i % 2 ? 'GET' : 'POST',
  status: 200 + (i % 7),
  latencyMs: i * 0.125 + 0.001,
  requestBytes: i * 10,
  responseBytes: i * 100,
  startedAt: 1_780_000_000_000 + i,
  ...over,
});

/** A batch as the receiving thread gets it: the Float64Array is cloned with its buffer transferred, strings copied. */
const posted = <T>(value: T): T => structuredClone(value);

describe('usage batches', () => {
  it('reads back every field of every record, strings sent once each, across batches', () => {
    const writer = new UsageBatchWriter(10);
    const reader = new UsageBatchReader();
    const read: UsageFields[] = [];
    const expected = Array.from({ length: 25 }, (_, i) => fields(i));
    const strings: string[] = [];
    for (const f of expected) {
      if (writer.add(f)) {
        const batch = writer.take()!;
        strings.push(...batch.strings);
        read.push(...reader.read(posted(batch)));
      }
    }
    const last = writer.take()!;
    expect(last.count).toBe(5);
    strings.push(...last.strings);
    read.push(...reader.read(posted(last)));
    expect(read).toEqual(expected);
    expect(strings.sort()).toEqual(['GET', 'POST', 'api-0', 'api-1', 'api-2', 'app-1', 'app-2', 'app-3', 'app-4', 'app-0'].sort());
  });

  it('says when a batch is full, and has nothing to hand over when nothing was written', () => {
    const writer = new UsageBatchWriter(2);
    expect(writer.take()).toBeNull();
    expect(writer.add(fields(1))).toBe(false);
    expect(writer.add(fields(2))).toBe(true);
    expect(writer.take()!.count).toBe(2);
    expect(writer.size).toBe(0);
  });

  it('starts both string tables again past the limit, without mixing up the strings', () => {
    const writer = new UsageBatchWriter(4, 3);
    const reader = new UsageBatchReader();
    const first = [fields(0, { apiId: 'a' }), fields(1, { apiId: 'b', applicationId: null })];
    for (const f of first) writer.add(f);
    const one = writer.take()!;
    expect(one.reset).toBe(false);
    expect(reader.read(posted(one))).toEqual(first);
    // Three strings known (a, POST, b, GET: four): the next batch starts a new table.
    const second = [fields(2, { apiId: 'c', applicationId: null, method: 'PUT' })];
    writer.add(second[0]);
    const two = writer.take()!;
    expect(two.reset).toBe(true);
    expect(two.strings).toEqual(['c', 'PUT']);
    expect(reader.read(posted(two))).toEqual(second);
  });

  it('starts afresh for a new receiver after forget(), and refuses to forget with records written', () => {
    const writer = new UsageBatchWriter(4);
    writer.add(fields(1));
    writer.take();
    writer.add(fields(1));
    expect(() => writer.forget()).toThrow(/take\(\) them first/);
    writer.take();
    writer.forget();
    writer.add(fields(1));
    const batch = writer.take()!;
    expect(batch.reset).toBe(true);
    // A reader that never saw the first batches reads it whole.
    expect(new UsageBatchReader().read(posted(batch))).toEqual([fields(1)]);
  });

  it('refuses a batch that refers to a string it was never sent, naming the index', () => {
    const writer = new UsageBatchWriter(4);
    writer.add(fields(1));
    writer.take();
    writer.add(fields(1));
    expect(() => new UsageBatchReader().read(posted(writer.take()!))).toThrow(/string 0, which was never sent \(0 known\)/);
  });
});
