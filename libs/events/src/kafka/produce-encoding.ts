/**
 * Encodes kafkajs' Produce requests (versions 3 to 7, uncompressed) in one
 * pass into exactly sized buffers, byte for byte as kafkajs 2.2.4 does.
 *
 * kafkajs builds every record, and every header of every record, in its own
 * zero-filled 512-byte Encoder, copies each into the batch, the batch into the
 * request and the request into its frame (each time into a buffer grown by
 * doubling), and sorts each batch's timestamps as strings. At the replicator's
 * rate that was most of its CPU: `npm run bench:replication` spent ~40 % of its
 * busy time in that encoding and the garbage it leaves. Compressed batches are
 * left to kafkajs.
 *
 * Installed into kafkajs by `kafkajs-patches`.
 */
import { crc32c } from './crc32c';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internals have no types */
const Encoder = require('kafkajs/src/protocol/encoder') as new (initialSize?: number) => EncoderLike;
const Long = require('kafkajs/src/utils/long') as { fromValue(value: unknown): { value: bigint } };
const { Types: Compression } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number } };
/* eslint-enable @typescript-eslint/no-require-imports */

interface EncoderLike {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}

type Bytes = Buffer | string | number | null | undefined;

export interface ProduceMessage {
  key?: Bytes;
  value: Bytes;
  timestamp?: string | number | null;
  headers?: Record<string, Bytes | Bytes[]>;
}

export interface ProduceRequestArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: {
    topic: string;
    partitions: { partition: number; firstSequence?: number; messages: ProduceMessage[] }[];
  }[];
}

interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<EncoderLike>;
}

export type ProduceRequest = (args: ProduceRequestArgs) => KafkajsRequest;

const MAGIC_BYTE = 2;
const TRANSACTIONAL = 16;
/** Bytes of a record batch before its records: base offset to record count. */
const BATCH_HEADER = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Where the CRC-covered part of a batch starts (its attributes). */
const CRC_START = 8 + 4 + 4 + 1 + 4;

const zigZag = (value: number): number => (value >= 0 ? value * 2 : -value * 2 - 1);

function sizeOfUVarInt(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes += 1;
  }
  return bytes;
}

const sizeOfVarInt = (value: number): number => sizeOfUVarInt(zigZag(value));

function writeUVarInt(buffer: Buffer, offset: number, value: number): number {
  while (value >= 128) {
    buffer[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buffer[offset++] = value;
  return offset;
}

const writeVarInt = (buffer: Buffer, offset: number, value: number): number => writeUVarInt(buffer, offset, zigZag(value));

/** Encoded length of a key, value or header value; -1 for none. kafkajs writes anything else as its string. */
function lengthOf(bytes: Bytes): number {
  if (bytes == null) return -1;
  if (Buffer.isBuffer(bytes)) return bytes.length;
  return Buffer.byteLength(String(bytes), 'utf8');
}

function writeBytes(buffer: Buffer, offset: number, bytes: Bytes, length: number): number {
  offset = writeVarInt(buffer, offset, length);
  if (length <= 0) return offset;
  if (Buffer.isBuffer(bytes)) buffer.set(bytes, offset);
  else buffer.write(String(bytes), offset, length, 'utf8');
  return offset + length;
}

/** Headers as kafkajs flattens them: an array value is one header per element. */
function headerCount(headers: ProduceMessage['headers']): number {
  let count = 0;
  if (headers == null) return count;
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    count += Array.isArray(value) ? value.length : 1;
  }
  return count;
}

function sizeOfHeader(key: string, value: Bytes): number {
  const keyLength = Buffer.byteLength(key, 'utf8');
  const valueLength = lengthOf(value);
  return sizeOfVarInt(keyLength) + keyLength + sizeOfVarInt(valueLength) + Math.max(valueLength, 0);
}

function writeHeader(buffer: Buffer, offset: number, key: string, value: Bytes): number {
  offset = writeBytes(buffer, offset, key, Buffer.byteLength(key, 'utf8'));
  return writeBytes(buffer, offset, value, lengthOf(value));
}

/** One partition's messages as a v2 record batch, written from `start` to the end of `buffer` (sized for it); returns where it ended. */
function encodeBatch(
  messages: ProduceMessage[],
  sizes: number[],
  timestamps: { first: number; deltas: number[]; max: number },
  producer: { id: bigint; epoch: number; firstSequence: number; transactional: boolean },
  buffer: Buffer,
  start: number,
): number {
  const batchLength = buffer.length - start;
  buffer.writeBigInt64BE(0n, start); // base offset
  buffer.writeInt32BE(batchLength - 12, start + 8);
  buffer.writeInt32BE(0, start + 12); // partition leader epoch
  buffer.writeInt8(MAGIC_BYTE, start + 16);
  // CRC at start + 17, once the rest is written.
  buffer.writeInt16BE(producer.transactional ? TRANSACTIONAL : 0, start + 21);
  buffer.writeInt32BE(messages.length - 1, start + 23); // last offset delta
  buffer.writeBigInt64BE(BigInt(timestamps.first), start + 27);
  buffer.writeBigInt64BE(BigInt(timestamps.max), start + 35);
  buffer.writeBigInt64BE(producer.id, start + 43);
  buffer.writeInt16BE(producer.epoch, start + 51);
  buffer.writeInt32BE(producer.firstSequence, start + 53);
  buffer.writeInt32BE(messages.length, start + 57);
  let offset = start + BATCH_HEADER;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    offset = writeVarInt(buffer, offset, sizes[i]);
    buffer[offset++] = 0; // attributes
    offset = writeVarInt(buffer, offset, timestamps.deltas[i]);
    offset = writeVarInt(buffer, offset, i);
    offset = writeBytes(buffer, offset, message.key, lengthOf(message.key));
    offset = writeBytes(buffer, offset, message.value, lengthOf(message.value));
    const headers = message.headers;
    offset = writeVarInt(buffer, offset, headerCount(headers));
    if (headers == null) continue;
    for (const key of Object.keys(headers)) {
      const value = headers[key];
      if (!Array.isArray(value)) offset = writeHeader(buffer, offset, key, value);
      else for (const element of value) offset = writeHeader(buffer, offset, key, element);
    }
  }
  buffer.writeUInt32BE(crc32c(buffer.subarray(start + CRC_START, offset)), start + 17);
  return offset;
}

/** Timestamps as kafkajs sets them: the batch's first and max of the messages' own, each record's delta from the first. */
function timestampsOf(messages: ProduceMessage[], now: number): { first: number; deltas: number[]; max: number } {
  let first = Infinity;
  let max = -Infinity;
  for (const message of messages) {
    if (message.timestamp == null) continue;
    const timestamp = Number(message.timestamp);
    if (timestamp < first) first = timestamp;
    if (timestamp > max) max = timestamp;
  }
  if (first === Infinity) first = max = now;
  const deltas = messages.map((message) => (message.timestamp ? Number(message.timestamp) : now) - first);
  return { first, deltas, max };
}

/** Size of a record's body (after its own length), as the record's length field states it. */
function recordSize(message: ProduceMessage, index: number, timestampDelta: number): number {
  const key = lengthOf(message.key);
  const value = lengthOf(message.value);
  let size = 1 + sizeOfVarInt(timestampDelta) + sizeOfVarInt(index);
  size += sizeOfVarInt(key) + Math.max(key, 0) + sizeOfVarInt(value) + Math.max(value, 0);
  const headers = message.headers;
  size += sizeOfVarInt(headerCount(headers));
  if (headers == null) return size;
  for (const name of Object.keys(headers)) {
    const headerValue = headers[name];
    if (!Array.isArray(headerValue)) size += sizeOfHeader(name, headerValue);
    else for (const element of headerValue) size += sizeOfHeader(name, element);
  }
  return size;
}

/** A partition's entry of the request: partition, record set size, record batch. */
function encodePartition(
  partition: ProduceRequestArgs['topicData'][number]['partitions'][number],
  producer: { id: bigint; epoch: number; transactional: boolean },
  now: number,
): Buffer {
  const { messages } = partition;
  const timestamps = timestampsOf(messages, now);
  const sizes = messages.map((message, i) => recordSize(message, i, timestamps.deltas[i]));
  let batchSize = BATCH_HEADER;
  for (const size of sizes) batchSize += sizeOfVarInt(size) + size;
  const buffer = Buffer.allocUnsafe(8 + batchSize);
  buffer.writeInt32BE(partition.partition, 0);
  buffer.writeInt32BE(batchSize, 4);
  const end = encodeBatch(messages, sizes, timestamps, { ...producer, firstSequence: partition.firstSequence ?? 0 }, buffer, 8);
  if (end !== buffer.length) throw new Error(`produce encoding wrote ${end} of ${buffer.length} bytes`);
  return buffer;
}

function writeString(buffer: Buffer, offset: number, value: string | null | undefined): number {
  if (value == null) return buffer.writeInt16BE(-1, offset);
  const length = Buffer.byteLength(value, 'utf8');
  offset = buffer.writeInt16BE(length, offset);
  return offset + buffer.write(value, offset, length, 'utf8');
}

/** The request body of a Produce request: everything after kafkajs' request header. */
export function encodeProduceRequest(args: ProduceRequestArgs, now = Date.now()): Buffer {
  const producer = {
    id: Long.fromValue(args.producerId ?? -1).value,
    epoch: args.producerEpoch ?? 0,
    transactional: !!args.transactionalId,
  };
  const topics = args.topicData.map(({ topic, partitions }) => ({
    topic,
    partitions: partitions.map((partition) => encodePartition(partition, producer, now)),
  }));
  let size = 2 + (args.transactionalId == null ? 0 : Buffer.byteLength(args.transactionalId, 'utf8')) + 2 + 4 + 4;
  for (const { topic, partitions } of topics) {
    size += 2 + Buffer.byteLength(topic, 'utf8') + 4;
    for (const partition of partitions) size += partition.length;
  }
  const buffer = Buffer.allocUnsafe(size);
  let offset = writeString(buffer, 0, args.transactionalId);
  offset = buffer.writeInt16BE(args.acks, offset);
  offset = buffer.writeInt32BE(args.timeout, offset);
  offset = buffer.writeInt32BE(topics.length, offset);
  for (const { topic, partitions } of topics) {
    offset = writeString(buffer, offset, topic);
    offset = buffer.writeInt32BE(partitions.length, offset);
    for (const partition of partitions) offset += partition.copy(buffer, offset);
  }
  return buffer;
}

/** `buffer` as the kafkajs Encoder its callers expect, without copying it. */
function asEncoder(buffer: Buffer): EncoderLike {
  const encoder = new Encoder(0);
  encoder.buf = buffer;
  encoder.offset = buffer.length;
  return encoder;
}

/** kafkajs' Produce v3 request (v4 to v7 reuse it), encoding uncompressed requests with `encodeProduceRequest`. */
export function fastProduceRequest(original: ProduceRequest): ProduceRequest {
  return (args) => {
    const request = original(args);
    if ((args.compression ?? Compression.None) !== Compression.None) return request;
    return { ...request, encode: async () => asEncoder(encodeProduceRequest(args)) };
  };
}

/**
 * kafkajs' request frame (size, API key and version, correlation id, client id,
 * body) written once into an exactly sized buffer, instead of through two
 * Encoders that each zero-fill and copy the whole request.
 */
export async function encodeRequestFrame({
  correlationId,
  clientId,
  request,
}: {
  correlationId: number;
  clientId: string | null;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<EncoderLike> };
}): Promise<EncoderLike> {
  const body = (await request.encode()).buffer;
  const clientIdLength = clientId == null ? 0 : Buffer.byteLength(clientId, 'utf8');
  const frame = Buffer.allocUnsafe(4 + 2 + 2 + 4 + 2 + clientIdLength + body.length);
  let offset = frame.writeInt32BE(frame.length - 4, 0);
  offset = frame.writeInt16BE(request.apiKey, offset);
  offset = frame.writeInt16BE(request.apiVersion, offset);
  offset = frame.writeInt32BE(correlationId, offset);
  offset = writeString(frame, offset, clientId);
  body.copy(frame, offset);
  return asEncoder(frame);
}
