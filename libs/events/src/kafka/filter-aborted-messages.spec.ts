// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is kafkajs-shaped (export =)
import filterAbortedMessages = require('./filter-aborted-messages');

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' own module, whose bug this replaces
const kafkajsFilter = require('kafkajs/src/consumer/filterAbortedMessages') as typeof filterAbortedMessages;

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

/** A record of `producer`'s transaction, or its marker. */
function record(offset: number, producer: string, marker?: Buffer) {
  return {
    offset: String(offset),
    key: marker ?? Buffer.from(`k${offset}`),
    isControlRecord: marker !== undefined,
    batchContext: { producerId: producer, inTransaction: true },
  };
}

/**
 * Two transactional lanes, as a killed replicator leaves them: lane 1's older
 * transaction (offsets 0-3) and lane 0's newer one (4-7) both open, then lane 0
 * initialised (aborting the newer one first) and lane 1 (aborting the older one).
 * Then a committed transaction of lane 0.
 */
const partition = [
  record(0, 'lane1'),
  record(1, 'lane1'),
  record(2, 'lane1'),
  record(3, 'lane1'),
  record(4, 'lane0'),
  record(5, 'lane0'),
  record(6, 'lane0'),
  record(7, 'lane0'),
  record(8, 'lane0', ABORT),
  record(9, 'lane1', ABORT),
  record(10, 'lane0'),
  record(11, 'lane0', COMMIT),
];
// The broker's order: as aborted (its transaction index), not by first offset.
const aborted = [
  { producerId: 'lane0', firstOffset: '4' },
  { producerId: 'lane1', firstOffset: '0' },
];
const dataOffsets = (messages: typeof partition) => messages.filter((m) => !m.isControlRecord).map((m) => Number(m.offset));

describe('filterAbortedMessages (read committed)', () => {
  it('drops every record of every aborted transaction, in whatever order the broker lists them', () => {
    expect(dataOffsets(filterAbortedMessages({ messages: partition, abortedTransactions: aborted }))).toEqual([10]);
  });

  it('drops records from an aborted transaction that began before the fetch, and a second one that begins at the same record', () => {
    const fromFive = partition.slice(5);
    expect(dataOffsets(filterAbortedMessages({ messages: fromFive, abortedTransactions: aborted }))).toEqual([10]);
    const both = [
      { producerId: 'lane1', firstOffset: '0' },
      { producerId: 'lane0', firstOffset: '4' },
    ];
    expect(dataOffsets(filterAbortedMessages({ messages: fromFive, abortedTransactions: both }))).toEqual([10]);
  });

  it("keeps every record without aborted transactions, and a producer's records after its abort marker", () => {
    expect(filterAbortedMessages({ messages: partition, abortedTransactions: [] })).toBe(partition);
    expect(
      dataOffsets(filterAbortedMessages({ messages: partition, abortedTransactions: [{ producerId: 'lane0', firstOffset: '4' }] })),
    ).toEqual([0, 1, 2, 3, 10]);
  });

  it("is needed: kafkajs 2.2.4's own filter lets the older aborted transaction through (if this fails, kafkajs fixed it)", () => {
    expect(dataOffsets(kafkajsFilter({ messages: partition, abortedTransactions: aborted }))).toEqual([0, 1, 2, 3, 10]);
  });

  it("is what kafkajs' Batch uses in this test process (jest's moduleNameMapper, as kafkajs-patches in the apps)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' own class
    const Batch = require('kafkajs/src/consumer/batch') as new (
      topic: string,
      fetchedOffset: string,
      data: object,
    ) => { messages: { offset: string }[] };
    const batch = new Batch('t', '0', { partition: 0, highWatermark: '12', messages: partition, abortedTransactions: aborted });
    expect(batch.messages.map((m) => Number(m.offset))).toEqual([10]);
  });
});
