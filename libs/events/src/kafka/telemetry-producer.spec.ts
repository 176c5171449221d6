import { PartitionMetadata, Partitioners } from 'kafkajs';
import { RememberingDefaultPartitioner } from './telemetry-producer';

describe('remembering default partitioner', () => {
  const metadata = (count: number): PartitionMetadata[] =>
    Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

  it('gives every key the partition kafkajs’ default partitioner gives it, the first time and when remembered', () => {
    const ours = RememberingDefaultPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const seen = new Set<number>();
    for (const round of [1, 2])
      for (const count of [3, 6, 12])
        for (let i = 0; i < 500; i++) {
          const args = { topic: `t${count}`, partitionMetadata: metadata(count), message: { key: `api-${i}`, value: null } };
          const partition = ours(args);
          expect({ round, count, i, partition }).toEqual({ round, count, i, partition: theirs(args) });
          seen.add(partition);
        }
    expect(seen.size).toBe(12);
  });

  it('leaves an explicit partition and a Buffer key to kafkajs', () => {
    const ours = RememberingDefaultPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const partitionMetadata = metadata(6);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 4 } })).toBe(4);
    const buffer = { topic: 't', partitionMetadata, message: { key: Buffer.from('api-9'), value: null } };
    expect(ours(buffer)).toBe(theirs(buffer));
  });
});
