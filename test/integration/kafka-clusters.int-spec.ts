import { EachMessagePayload } from 'kafkajs';
import { testBrokers } from '../support/test-env';
import { createTopics, testKafka, uniqueTopic } from '../support/kafka';

describe.each(['dc1', 'dc2'] as const)('the %s test cluster', (dc) => {
  it('carries a record from a kafkajs producer to a consumer with its key and headers', async () => {
    const kafka = testKafka(testBrokers(dc));
    const topic = uniqueTopic(`roundtrip.${dc}`);
    await createTopics(kafka, [{ topic, numPartitions: 3 }]);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({
      key: `stream-${i % 4}`,
      value: JSON.stringify({ i }),
      headers: { type: 'test.sent' },
    }));
    await producer.send({ topic, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueTopic('group') });
    const received: { key: string; i: number; type: string; partition: number }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }: EachMessagePayload) => {
          received.push({
            key: message.key!.toString(),
            i: JSON.parse(message.value!.toString()).i,
            type: message.headers!.type!.toString(),
            partition,
          });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await done;
    await consumer.disconnect();

    expect(received.map((r) => r.i).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    expect(new Set(received.map((r) => r.type))).toEqual(new Set(['test.sent']));
    // Same key, same partition, in the order produced.
    for (const key of ['stream-0', 'stream-1', 'stream-2', 'stream-3']) {
      const ofKey = received.filter((r) => r.key === key);
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
      expect(ofKey.map((r) => r.i)).toEqual([...ofKey.map((r) => r.i)].sort((a, b) => a - b));
    }
  });
});

it('runs dc1 and dc2 as independent clusters', async () => {
  const topic = uniqueTopic('only-in-dc1');
  await createTopics(testKafka(testBrokers('dc1')), [{ topic }]);
  const admin = testKafka(testBrokers('dc2')).admin();
  await admin.connect();
  const topics = await admin.listTopics();
  await admin.disconnect();
  expect(testBrokers('dc1')).not.toEqual(testBrokers('dc2'));
  expect(topics).not.toContain(topic);
});
