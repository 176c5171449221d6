import { KafkaMessage } from 'kafkajs';
import { chunks } from '@apim/events';
import { sendRounds } from './source-mirror';

const message = (bytes: number, offset = 0): KafkaMessage =>
  ({
    key: Buffer.from('k'),
    value: Buffer.alloc(bytes),
    headers: { type: 'x' },
    offset: String(offset),
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

describe('send rounds', () => {
  const batch = (topic: string, partition: number, from: number, count: number) => ({
    topic,
    partition,
    messages: Array.from({ length: count }, (_, i) => message(100, from + i)),
  });
  const offsets = (rounds: ReturnType<typeof sendRounds>, topic: string, partition: number) =>
    rounds.flatMap((round) =>
      round.filter((c) => c.topic === topic && c.partition === partition).flatMap((c) => c.messages.map((m) => m.offset)),
    );

  it("keeps each partition's records in order across several batches of it, each split into chunks", () => {
    // Two fetches of partition 0 in one flush, each bigger than one chunk: the second's first chunk must not pass the first's second.
    const batches = [batch('t', 0, 0, 30), batch('t', 1, 0, 5), batch('t', 0, 30, 30), batch('u', 0, 0, 12)];
    const rounds = sendRounds(batches, 2000);
    expect(offsets(rounds, 't', 0)).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
    expect(offsets(rounds, 't', 1)).toEqual(['0', '1', '2', '3', '4']);
    expect(offsets(rounds, 'u', 0)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    // One chunk per partition per request.
    for (const round of rounds) expect(new Set(round.map((c) => `${c.topic}/${c.partition}`)).size).toBe(round.length);
    expect(rounds.length).toBeGreaterThan(3);
  });
});
