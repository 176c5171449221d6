import { encodeRequestFrame, fastProduceRequest, ProduceMessage, ProduceRequestArgs } from './produce-encoding';

// kafkajs' own modules: the replacements are installed only by kafkajs-patches, which no spec imports.
/* eslint-disable @typescript-eslint/no-require-imports */
const originalProduce = require('kafkajs/src/protocol/requests/produce/v3/request');
const originalFrame = require('kafkajs/src/protocol/request');
const Long = require('kafkajs/src/utils/long');
/* eslint-enable @typescript-eslint/no-require-imports */

const NOW = 1_764_000_000_123;

/** A deterministic pseudo-random source, so that a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
}

function messages(count: number, seed: number): ProduceMessage[] {
  const next = random(seed);
  const bytes = (max: number) => Buffer.from(Array.from({ length: Math.floor(next() * max) }, () => Math.floor(next() * 256)));
  const shapes: (() => ProduceMessage['value'])[] = [
    () => bytes(40),
    () => bytes(20_000),
    () => `ascii ${Math.floor(next() * 1e9)}`,
    () => 'ünïcödé ✓ 😀'.repeat(Math.floor(next() * 30)),
    () => null,
    () => undefined,
  ];
  const pick = () => shapes[Math.floor(next() * shapes.length)]();
  return Array.from({ length: count }, (_, i) => ({
    key: next() < 0.3 ? null : pick(),
    value: pick(),
    timestamp: next() < 0.5 ? undefined : String(NOW - 5000 + Math.floor(next() * 10_000)),
    headers:
      next() < 0.2
        ? undefined
        : {
            'apim-source-dc': 'dc1',
            [`h-${i % 3}`]: Buffer.from(`v${i}`),
            'apim-multi': ['a', Buffer.from('b'), 'ç'],
            'apim-source-offset': String(i * 997),
          },
  }));
}

function args(overrides: Partial<ProduceRequestArgs> = {}): ProduceRequestArgs {
  return {
    acks: -1,
    timeout: 30_000,
    transactionalId: 'apim-replicator-dc2-from-dc1',
    producerId: Long.fromValue(4242),
    producerEpoch: 7,
    topicData: [
      {
        topic: 'dc1.apim.events',
        partitions: [
          { partition: 0, firstSequence: 12, messages: messages(50, 1) },
          { partition: 3, firstSequence: 0, messages: messages(1, 2) },
          { partition: 5, firstSequence: 2_000_000, messages: messages(300, 3) },
        ],
      },
      { topic: 'dc1.apim.analytics', partitions: [{ partition: 1, firstSequence: 1, messages: messages(20, 4) }] },
    ],
    ...overrides,
  };
}

async function bothEncodings(requestArgs: ProduceRequestArgs): Promise<[Buffer, Buffer]> {
  const ours = await fastProduceRequest(originalProduce)(requestArgs).encode();
  const theirs = await originalProduce(requestArgs).encode();
  return [ours.buffer, theirs.buffer];
}

describe('produce request encoding', () => {
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(NOW));
  afterEach(() => jest.restoreAllMocks());

  it('writes exactly the bytes kafkajs writes for a transactional request of several topics and partitions', async () => {
    const [ours, theirs] = await bothEncodings(args());
    expect(ours.length).toBeGreaterThan(100_000);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('writes exactly the bytes kafkajs writes for an idempotent (non-transactional) request', async () => {
    const [ours, theirs] = await bothEncodings(args({ transactionalId: null, producerId: undefined, producerEpoch: undefined }));
    expect(ours.equals(theirs)).toBe(true);
  });

  it('writes exactly the bytes kafkajs writes for messages without timestamps, keys or headers, and for an empty partition', async () => {
    const plain = Array.from({ length: 200 }, (_, i) => ({ value: `value ${i}` }));
    const [ours, theirs] = await bothEncodings(
      args({
        topicData: [
          {
            topic: 't',
            partitions: [
              { partition: 0, messages: plain },
              { partition: 1, messages: [] },
            ],
          },
        ],
      }),
    );
    expect(ours.equals(theirs)).toBe(true);
  });

  it('leaves compressed requests to kafkajs', async () => {
    const compressed = args({ compression: 1 });
    const request = fastProduceRequest(originalProduce)(compressed);
    expect(request.apiName).toBe('Produce');
    expect(request.expectResponse()).toBe(true);
    const [ours, theirs] = await bothEncodings(compressed);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('frames a request exactly as kafkajs does', async () => {
    const request = fastProduceRequest(originalProduce)(args());
    const ours = await encodeRequestFrame({ correlationId: 99, clientId: 'apim-replicator', request });
    const theirs = await originalFrame({ correlationId: 99, clientId: 'apim-replicator', request });
    expect(ours.buffer.equals(theirs.buffer)).toBe(true);
    expect(ours.buffer.readInt32BE(0)).toBe(ours.buffer.length - 4);
  });
});
