import { PartitionOffsets } from './partition-offsets';

describe('PartitionOffsets', () => {
  it('commits after the last processed record of each partition', () => {
    const offsets = new PartitionOffsets();
    offsets.markProcessed('t', 0, '4');
    offsets.markProcessed('t', 0, '7');
    offsets.markProcessed('t', 1, '2');
    expect(offsets.committable()).toEqual([
      { topic: 't', partition: 0, offset: '8' },
      { topic: 't', partition: 1, offset: '3' },
    ]);
  });

  it('never commits past a held record, and moves on once it is released', () => {
    const offsets = new PartitionOffsets();
    offsets.hold('t', 0, '5');
    offsets.markProcessed('t', 0, '5');
    offsets.markProcessed('t', 0, '9');
    expect(offsets.committable()).toEqual([{ topic: 't', partition: 0, offset: '5' }]);
    offsets.release('t', 0, '5');
    expect(offsets.committable()).toEqual([{ topic: 't', partition: 0, offset: '10' }]);
  });
});
