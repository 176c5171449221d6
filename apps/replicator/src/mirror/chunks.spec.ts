import { KafkaMessage } from 'kafkajs';
import { chunks } from './source-mirror';

const message = (bytes: number): KafkaMessage =>
  ({
    key: Buffer.from('k'),
    value: Buffer.alloc(bytes),
    headers: { type: 'x' },
    offset: '0',
    timestamp: '0',
    attributes: 0,
  }) as KafkaMessage;

describe('chunks', () => {
  it('keeps every message, in order, in runs under the byte budget', () => {
    const messages = Array.from({ length: 100 }, () => message(100));
    const runs = chunks(messages, 2000);
    expect(runs.flat()).toEqual(messages);
    expect(runs.length).toBeGreaterThan(5);
    for (const run of runs) expect(run.length).toBeLessThanOrEqual(2000 / 180);
  });

  it('gives a message bigger than the budget a run of its own rather than dropping it', () => {
    const big = message(5000);
    expect(chunks([message(10), big, message(10)], 1000)).toEqual([[expect.anything()], [big], [expect.anything()]]);
  });
});
