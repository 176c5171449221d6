import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

/** A kafkajs client for tests, quiet unless a test fails loudly. */
export function testKafka(brokers: string[], clientId = 'apim-test'): Kafka {
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}

/** Creates topics explicitly (the clusters never auto-create). */
export async function createTopics(kafka: Kafka, topics: { topic: string; numPartitions?: number }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions ?? 1, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}
