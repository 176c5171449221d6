import { randomBytes } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** An RFC 4122 / RFC 9562 UUID string of any version 1..8 (the v7s we write, and any other a peer may send). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Milliseconds since the epoch encoded in a UUIDv7, or null when `id` is not one. */
export function uuidV7Time(id: string): number | null {
  if (!isUuid(id) || id[14] !== '7') return null;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

let lastMs = -1;
let sequence = 0;

/**
 * A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter
 * (method 1 of section 6.2) and 62 random bits. Ids made by one process sort in
 * the order they were made, even within one millisecond or when the clock steps
 * back, which keeps the events table's primary-key index append-mostly.
 */
export function newEventId(): string {
  const random = randomBytes(10);
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    sequence++;
    if (sequence > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next one.
      ms = lastMs + 1;
      sequence = random.readUInt16BE(0) & 0x7ff;
    }
  } else {
    // A fresh millisecond: start the counter at a random point in its lower half, leaving room to count.
    sequence = random.readUInt16BE(0) & 0x7ff;
  }
  lastMs = ms;

  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  random.copy(bytes, 8, 2, 10);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
