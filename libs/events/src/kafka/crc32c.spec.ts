import { randomBytes } from 'node:crypto';
import { crc32c } from './crc32c';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' own implementation, a byte at a time
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;

describe('crc32c', () => {
  it('gives the published check value of "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('agrees with kafkajs on every length from 0 to 100 and on large buffers', () => {
    for (let length = 0; length <= 100; length++) {
      const buffer = randomBytes(length);
      expect({ length, crc: crc32c(buffer) }).toEqual({ length, crc: kafkajsCrc32C(buffer) });
    }
    const large = randomBytes(1_000_003);
    expect(crc32c(large)).toBe(kafkajsCrc32C(large));
    expect(crc32c(large.subarray(5, 70_001))).toBe(kafkajsCrc32C(large.subarray(5, 70_001)));
  });
});
