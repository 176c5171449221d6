import { groupMessagesPerPartition } from './linear-grouping';

// kafkajs' own module: the replacement is installed only by kafkajs-patches, which no spec imports.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const original = require('kafkajs/src/producer/groupMessagesPerPartition') as typeof groupMessagesPerPartition;

describe('linear grouping of a produce request by partition', () => {
  const partitionMetadata = [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }];
  const partitioner = ({ message }: { message: unknown }) => (message as { partition: number }).partition;
  const messages = Array.from({ length: 1000 }, (_, i) => ({ partition: (i * 7) % 3, value: `m${i}` }));

  it('groups exactly as kafkajs does, keeping each partition in order', () => {
    const args = { topic: 't', partitionMetadata, messages, partitioner };
    expect(groupMessagesPerPartition(args)).toEqual(original(args));
    expect(
      groupMessagesPerPartition(args)[1]
        .map((m) => (m as { value: string }).value)
        .slice(0, 3),
    ).toEqual(['m1', 'm4', 'm7']);
  });

  it('gives nothing for a topic without partition metadata', () => {
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual({});
  });
});
