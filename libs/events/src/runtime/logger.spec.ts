import { JsonLogger } from './logger';

describe('JsonLogger', () => {
  it('writes one JSON line with the base fields, an error as name and message, and a bigint as its decimal string', () => {
    const lines: string[] = [];
    const logger = new JsonLogger({ service: 'test' }, 'info', (line) => lines.push(line));
    logger.warn('offsets', { next: 12345678901234567890n, error: new TypeError('bad') });
    logger.debug('below the level');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'warn',
      service: 'test',
      msg: 'offsets',
      next: '12345678901234567890',
      error: { name: 'TypeError', message: 'bad' },
    });
  });
});
