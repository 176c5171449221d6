/**
 * Workaround for a quadratic step in kafkajs 2.2.4 (unmaintained since 2023):
 * its producer groups a request's records by partition with
 * `[...current, message]`, copying a partition's array once per record, so
 * one request of n records to a partition costs n²/2 copies (10 million for
 * the 4,500 records of one mirrored fetch: 7 % of the replicator's CPU in
 * `npm run bench:replication`). This replaces that module, before kafkajs
 * loads it, with the same grouping in linear time.
 *
 * Import this module before anything that imports kafkajs (first line of an
 * app's main). Imported too late it throws, rather than silently doing nothing.
 */
type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;

export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}): Record<number, unknown[]> {
  if (partitionMetadata.length === 0) return {};
  const grouped: Record<number, unknown[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (grouped[partition] ??= []).push(message);
  }
  return grouped;
}

function install(): void {
  const grouping = require.resolve('kafkajs/src/producer/groupMessagesPerPartition');
  const sendMessages = require.resolve('kafkajs/src/producer/sendMessages');
  if (require.cache[sendMessages] && require.cache[grouping]?.exports !== groupMessagesPerPartition)
    throw new Error('linear-grouping must be imported before kafkajs (first import of the main module)');
  const cached = require.cache[grouping];
  if (cached) cached.exports = groupMessagesPerPartition;
  else
    require.cache[grouping] = {
      id: grouping,
      filename: grouping,
      path: grouping,
      loaded: true,
      exports: groupMessagesPerPartition,
      children: [],
      paths: [],
    } as unknown as NodeJS.Module;
}

install();
