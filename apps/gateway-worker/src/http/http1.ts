import type { Wire } from './wire';

/**
 * HTTP/1.1 message syntax (RFC 9112), strict, for both sides of the gateway:
 * request heads from clients, response heads from upstreams, and the body
 * framings they share. Strict where a lenient reading is how requests get
 * smuggled: CRLF only (no bare CR or LF), no obsolete line folding, no
 * whitespace before a header's colon, token characters in names, no control
 * characters in values or targets.
 */

/** A message the gateway cannot read: the status to answer with, and why (safe to show: it names no header value). */
export class HttpSyntaxError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Longest head the gateway reads (request or response line and headers), as Node's default. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Most header lines in one head. */
export const MAX_HEADERS = 200;

/** Field value characters: HTAB, SP, visible ASCII, obs-text. */
const VALUE = new Uint8Array(256);
VALUE[0x09] = 1;
for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) VALUE[c] = 1;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

/**
 * Header fields as parsed: `raw` keeps every line in order with its name as
 * sent (repeated fields stay separate lines when forwarded), `fields` maps
 * lower-case names to values, repeated ones joined with ", ".
 */
export interface HeaderFields {
  raw: string[];
  fields: Map<string, string>;
  /** How often Content-Length and Transfer-Encoding occur (repeats are refused, not joined). */
  contentLengths: number;
  transferEncodings: number;
  hosts: number;
}

export interface RequestHead extends HeaderFields {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
}

export interface ResponseHead extends HeaderFields {
  status: number;
  minor: number;
}

/** CRLF CRLF as bytes: a string needle would be encoded again at every call. */
const BLANK_LINE = Buffer.from('\r\n\r\n', 'latin1');

/** Where the head that starts at `from` ends (the index after its blank line), or -1 if it has not all arrived. */
export function headEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf(BLANK_LINE, from);
  return at === -1 ? -1 : at + 4;
}

/** A method: a token. A target: visible ASCII only. The version is checked apart, to tell 505 from 400. */
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/([0-9])\.([0-9])$/;
// eslint-disable-next-line no-control-regex -- control characters are what the line is checked for
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5][0-9][0-9])(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB, and DEL: never in a head line (this also finds a bare CR or LF, a line being split at CRLF). */
// eslint-disable-next-line no-control-regex -- control characters are what the line is checked for
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * The lines of the head `buffer[from, end)` (which ends in its blank line),
 * split at CRLF, as latin1 strings: V8 slices and matches strings faster than
 * JavaScript walks bytes.
 */
function headLines(buffer: Buffer, from: number, end: number): string[] {
  return buffer.toString('latin1', from, end - 4).split('\r\n');
}

/** Parses `buffer[from, end)`, a request head ending in its blank line. */
export function parseRequestHead(buffer: Buffer, from: number, end: number): RequestHead {
  const lines = headLines(buffer, from, end);
  const line = REQUEST_LINE.exec(lines[0]);
  if (!line) {
    if (CONTROL.test(lines[0])) throw new HttpSyntaxError(400, 'a line does not end with CRLF, or holds a control character');
    throw new HttpSyntaxError(400, 'the request line is not METHOD TARGET HTTP/1.1');
  }
  if (line[3] !== '1' || (line[4] !== '1' && line[4] !== '0'))
    throw new HttpSyntaxError(505, 'the request line must end with HTTP/1.1 or HTTP/1.0');
  const head = headerFields(lines, 400) as RequestHead;
  // RFC 9112 §3.2: an HTTP/1.1 request without a Host, or with more than one, gets 400 (two hops could pick different ones).
  if (head.hosts > 1 || (head.hosts === 0 && line[4] === '1'))
    throw new HttpSyntaxError(400, 'an HTTP/1.1 request must carry exactly one Host header');
  head.method = line[1];
  head.target = line[2];
  head.minor = line[4] === '1' ? 1 : 0;
  return head;
}

/** Parses `buffer[from, end)`, a response head ending in its blank line. */
export function parseResponseHead(buffer: Buffer, from: number, end: number): ResponseHead {
  const lines = headLines(buffer, from, end);
  // HTTP/1.x SP 3DIGIT [SP reason] (the reason may be empty, and its SP is sometimes missing).
  const line = STATUS_LINE.exec(lines[0]);
  if (!line) throw new HttpSyntaxError(502, 'the upstream sent an invalid status line');
  const head = headerFields(lines, 502) as ResponseHead;
  head.status = Number(line[2]);
  head.minor = line[1] === '1' ? 1 : 0;
  return head;
}

/** The header lines (all but the first of `lines`); a fault is answered with `status` (400 from a client, 502 from an upstream). */
function headerFields(lines: string[], status: number): HeaderFields {
  if (lines.length > MAX_HEADERS + 1) throw new HttpSyntaxError(431, `more than ${MAX_HEADERS} header lines`);
  const raw: string[] = [];
  const fields = new Map<string, string>();
  let contentLengths = 0;
  let transferEncodings = 0;
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (CONTROL.test(line)) throw new HttpSyntaxError(status, 'a line does not end with CRLF, or holds a control character');
    const first = line.charCodeAt(0);
    if (first === SP || first === 0x09) throw new HttpSyntaxError(status, 'obsolete line folding is not accepted');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpSyntaxError(status, 'a header line has no name or no colon');
    const name = line.slice(0, colon);
    if (!TOKEN_NAME.test(name))
      throw new HttpSyntaxError(status, 'a header name contains a character that is not allowed (or space before its colon)');
    let valueStart = colon + 1;
    let valueEnd = line.length;
    while (valueStart < valueEnd && isBlank(line.charCodeAt(valueStart))) valueStart++;
    while (valueEnd > valueStart && isBlank(line.charCodeAt(valueEnd - 1))) valueEnd--;
    const value = line.slice(valueStart, valueEnd);
    raw.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'content-length') contentLengths++;
    else if (lower === 'transfer-encoding') transferEncodings++;
    else if (lower === 'host') hosts++;
    const existing = fields.get(lower);
    fields.set(lower, existing === undefined ? value : `${existing}, ${value}`);
  }
  return { raw, fields, contentLengths, transferEncodings, hosts };
}

function isBlank(code: number): boolean {
  return code === SP || code === 0x09;
}

/** How a message's body is delimited (RFC 9112 §6.3). */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

const NO_BODY: Framing = { kind: 'none' };
const CHUNKED: Framing = { kind: 'chunked' };
const UNTIL_CLOSE: Framing = { kind: 'close' };

/**
 * The body framing of a request, refusing every shape a second hop could
 * read differently: Content-Length with Transfer-Encoding, repeated
 * Content-Length, a Transfer-Encoding other than `chunked` (the gateway
 * decodes chunked bodies and re-frames them itself), or one in HTTP/1.0.
 */
export function requestFraming(head: RequestHead): Framing {
  if (head.transferEncodings > 0) {
    if (head.contentLengths > 0) throw new HttpSyntaxError(400, 'a request may not carry both Content-Length and Transfer-Encoding');
    if (head.minor === 0) throw new HttpSyntaxError(400, 'Transfer-Encoding is not allowed in an HTTP/1.0 request');
    if (head.transferEncodings > 1 || head.fields.get('transfer-encoding')!.toLowerCase() !== 'chunked')
      throw new HttpSyntaxError(400, 'Transfer-Encoding must be chunked, alone');
    return CHUNKED;
  }
  if (head.contentLengths > 1) throw new HttpSyntaxError(400, 'a request may carry one Content-Length header only');
  if (head.contentLengths === 1) {
    const length = contentLength(head.fields.get('content-length')!);
    if (length < 0) throw new HttpSyntaxError(400, 'Content-Length must be a decimal number');
    return length === 0 ? NO_BODY : { kind: 'length', length };
  }
  return NO_BODY;
}

/** The body framing of an upstream's response to `method`. */
export function responseFraming(head: ResponseHead, method: string): Framing {
  if (method === 'HEAD' || head.status === 204 || head.status === 304 || head.status < 200) return NO_BODY;
  if (head.transferEncodings > 0) {
    const codings = head.fields.get('transfer-encoding')!.toLowerCase().split(',');
    return codings[codings.length - 1].trim() === 'chunked' && head.contentLengths === 0 ? CHUNKED : UNTIL_CLOSE;
  }
  if (head.contentLengths > 0) {
    const length = contentLength(head.fields.get('content-length')!);
    // Repeated identical values are joined with ", " by headerFields: anything else is a lie about the length.
    if (length < 0) throw new HttpSyntaxError(502, 'the upstream sent an invalid Content-Length');
    return length === 0 ? NO_BODY : { kind: 'length', length };
  }
  return UNTIL_CLOSE;
}

/** A Content-Length value: 1 to 15 digits, or -1. Repeated identical values ("5, 5") count as one, as RFC 9110 §8.6 allows. */
function contentLength(value: string): number {
  const comma = value.indexOf(',');
  if (comma !== -1) {
    const values = value.split(',').map((v) => v.trim());
    return values.every((v) => v === values[0]) ? contentLength(values[0]) : -1;
  }
  if (value.length === 0 || value.length > 15) return -1;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(value);
}

/** Whether the connection may carry another message after this one. */
export function keepsAlive(fields: ReadonlyMap<string, string>, minor: number): boolean {
  const connection = fields.get('connection')?.toLowerCase();
  if (connection === undefined) return minor === 1;
  if (connection.includes('close')) return false;
  return minor === 1 || connection.includes('keep-alive');
}

const enum Chunk {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailer,
  TrailerLf,
  Done,
}

/** Longest chunk-size line and trailer section accepted. */
const MAX_CHUNK_LINE = 1024;
const MAX_TRAILERS = MAX_HEAD_BYTES;

/**
 * Reads a body of a given framing from bytes as they arrive, handing out its
 * payload as views of the input (no copies). For a chunked body, the chunk
 * framing, extensions and trailers are consumed and dropped: the gateway
 * frames what it forwards itself.
 */
export class BodyReader {
  done: boolean;
  /** Payload bytes handed out so far. */
  bytes = 0;
  private remaining: number;
  private state = Chunk.Size;
  private size = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private lineEmpty = true;

  constructor(
    private readonly framing: Framing,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.done = framing.kind === 'none';
    this.remaining = framing.kind === 'length' ? framing.length : 0;
  }

  /** Reads from `buffer[from..]`; returns how many bytes belonged to this body (the rest is the next message's). */
  read(buffer: Buffer, from: number): number {
    if (this.done) return 0;
    switch (this.framing.kind) {
      case 'length': {
        const take = Math.min(this.remaining, buffer.length - from);
        if (take > 0) this.emit(buffer, from, from + take);
        this.remaining -= take;
        if (this.remaining === 0) this.done = true;
        return take;
      }
      case 'close':
        if (buffer.length > from) this.emit(buffer, from, buffer.length);
        return buffer.length - from;
      case 'chunked':
        return this.readChunked(buffer, from);
      default:
        return 0;
    }
  }

  /** The connection ended: complete for a close-delimited body, truncated for any other. */
  end(): boolean {
    if (this.framing.kind === 'close') this.done = true;
    return this.done;
  }

  private emit(buffer: Buffer, from: number, to: number): void {
    this.bytes += to - from;
    this.onData(from === 0 && to === buffer.length ? buffer : buffer.subarray(from, to));
  }

  private readChunked(buffer: Buffer, from: number): number {
    let at = from;
    const length = buffer.length;
    while (at < length && this.state !== Chunk.Done) {
      const byte = buffer[at];
      switch (this.state) {
        case Chunk.Size: {
          const digit = hexDigit(byte);
          if (digit >= 0) {
            if (++this.lineBytes > 12) throw new HttpSyntaxError(400, 'a chunk size is too large');
            this.size = this.size * 16 + digit;
          } else if (this.lineBytes === 0) {
            throw new HttpSyntaxError(400, 'a chunk does not start with its size in hex');
          } else if (byte === 0x3b /* ; */ || byte === SP || byte === 0x09) {
            this.state = Chunk.Extension;
          } else if (byte === CR) {
            this.state = Chunk.SizeLf;
          } else {
            throw new HttpSyntaxError(400, 'a chunk size line is malformed');
          }
          at++;
          break;
        }
        case Chunk.Extension:
          if (byte === CR) this.state = Chunk.SizeLf;
          else if (!VALUE[byte] || ++this.lineBytes > MAX_CHUNK_LINE) throw new HttpSyntaxError(400, 'a chunk extension is malformed');
          at++;
          break;
        case Chunk.SizeLf:
          if (byte !== LF) throw new HttpSyntaxError(400, 'a chunk size line does not end with CRLF');
          at++;
          this.lineBytes = 0;
          if (this.size === 0) {
            this.state = Chunk.Trailer;
            this.lineEmpty = true;
          } else {
            this.state = Chunk.Data;
            this.remaining = this.size;
          }
          break;
        case Chunk.Data: {
          const take = Math.min(this.remaining, length - at);
          this.emit(buffer, at, at + take);
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) this.state = Chunk.DataCr;
          break;
        }
        case Chunk.DataCr:
          if (byte !== CR) throw new HttpSyntaxError(400, 'chunk data is longer than its size');
          this.state = Chunk.DataLf;
          at++;
          break;
        case Chunk.DataLf:
          if (byte !== LF) throw new HttpSyntaxError(400, 'chunk data does not end with CRLF');
          this.state = Chunk.Size;
          this.size = 0;
          at++;
          break;
        case Chunk.Trailer:
          if (++this.trailerBytes > MAX_TRAILERS) throw new HttpSyntaxError(431, 'the trailer section is too large');
          if (byte === CR) this.state = Chunk.TrailerLf;
          else if (!VALUE[byte]) throw new HttpSyntaxError(400, 'a trailer line contains a control character');
          else this.lineEmpty = false;
          at++;
          break;
        case Chunk.TrailerLf:
          if (byte !== LF) throw new HttpSyntaxError(400, 'a trailer line does not end with CRLF');
          at++;
          if (this.lineEmpty) this.state = Chunk.Done;
          else {
            this.state = Chunk.Trailer;
            this.lineEmpty = true;
          }
          break;
      }
    }
    if (this.state === Chunk.Done) this.done = true;
    return at - from;
  }
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** The end of a chunked body (no trailers). */
export const LAST_CHUNK = '0\r\n\r\n';
const CRLF = Buffer.from('\r\n', 'latin1');

/** Writes `chunk` as one chunk of a chunked body, framing and data in one system call; false once the socket's buffer is full. */
export function writeChunk(wire: Wire, chunk: Buffer): boolean {
  return wire.writeParts([Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), chunk, CRLF]);
}

/** `name: value\r\n` lines for a head being written; values come from parsed heads or the gateway itself, so they hold no CR or LF. */
export function headerLines(raw: readonly string[]): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return out;
}
