import { STATUS_CODES } from 'node:http';
import {
  BodyReader,
  Framing,
  headEnd,
  headerLines,
  HttpSyntaxError,
  keepsAlive,
  LAST_CHUNK,
  MAX_HEAD_BYTES,
  parseRequestHead,
  requestFraming,
  writeChunk,
} from './http1';
import { listenWires, ServerTls, SocketsKind, Wire, WireHandler, WireListener } from './wire';

/**
 * The gateway's HTTP/1.1 server, on raw TCP wires (wire.ts): one read and, for a buffered
 * response, one write per exchange, no stream objects per request. It
 * exists for speed: node:http's request and response streams cost the
 * gateway more than everything it does itself (docs/architecture.md,
 * "Throughput"). Upgrades: `switchProtocols` answers 101 and hands the
 * connection's bytes to its caller. What it does not do: HTTP/2, trailers.
 */

export interface HttpServerOptions {
  /** A head must arrive whole within this time of its first byte (slow-header attacks). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: number;
  /** A handler threw: told here; the client gets a 500 (or, mid-response, a closed connection) and the process goes on. */
  onHandlerError?: (error: Error) => void;
  /** Which sockets to use (wire.ts); raw unless said otherwise, node where raw is unavailable. */
  sockets?: SocketsKind;
  /** Serve HTTPS with this certificate and key (node:tls sockets whatever `sockets` says). */
  tls?: ServerTls;
}

export type RequestHandler = (req: ServerRequest, res: ServerResponse) => void;

/** Where a request's body goes: `data` per chunk (a view, valid during the call), then `end` once. */
export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
}

export class HttpServer {
  private listener: WireListener | null = null;
  private readonly connections = new Set<Connection>();
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;
  private whenClosed: (() => void) | null = null;
  private listenerClosed = false;

  constructor(
    private readonly handler: RequestHandler,
    private readonly options: HttpServerOptions,
  ) {
    // One timer for every connection's timeouts, and the Date header's clock.
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  async listen(port: number, host: string): Promise<void> {
    this.listener = await listenWires(
      this.options.sockets ?? 'raw',
      port,
      host,
      (wire) => {
        const connection = new Connection(wire, this);
        this.connections.add(connection);
        return connection;
      },
      this.options.tls,
    );
  }

  /** Requests arrive over TLS. */
  get secure(): boolean {
    return this.options.tls !== undefined;
  }

  /** New TLS connections get this certificate and key (a rotation); open ones keep theirs. */
  setSecureContext(tls: ServerTls): void {
    if (!this.listener?.setSecureContext) throw new Error('this server does not serve TLS');
    this.listener.setSecureContext(tls);
  }

  get port(): number {
    return this.listener?.port ?? 0;
  }

  /** Stops accepting; idle connections close now, busy ones after their response. Resolves when all are gone. */
  close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    const closed = new Promise<void>((resolve) => (this.whenClosed = resolve));
    const listener = this.listener;
    if (listener)
      listener.close(() => {
        this.listenerClosed = true;
        this.checkClosed();
      });
    else this.listenerClosed = true;
    for (const connection of this.connections) connection.closeWhenIdle();
    this.checkClosed();
    return closed;
  }

  /** Ends every connection at once, busy or not. */
  destroyAll(): void {
    for (const connection of this.connections) connection.wire.destroy();
  }

  /** @internal */
  forget(connection: Connection): void {
    this.connections.delete(connection);
    this.checkClosed();
  }

  private checkClosed(): void {
    if (this.whenClosed && this.listenerClosed && this.connections.size === 0) {
      const resolve = this.whenClosed;
      this.whenClosed = null;
      resolve();
    }
  }

  /** @internal */
  get isClosing(): boolean {
    return this.closing;
  }

  /** @internal */
  dispatch(req: ServerRequest, res: ServerResponse): void {
    try {
      this.handler(req, res);
    } catch (error) {
      this.options.onHandlerError?.(error as Error);
      if (res.headersSent) res.destroy();
      else
        res.send(
          500,
          { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
          JSON.stringify({ error: 'INTERNAL', message: 'the gateway failed on this request' }),
        );
    }
  }

  /** @internal */
  get timeouts(): HttpServerOptions {
    return this.options;
  }

  private sweep(): void {
    const now = Date.now();
    refreshDate(now);
    for (const connection of this.connections) connection.checkTimeouts(now);
  }
}

let dateHeader = new Date().toUTCString();
let dateSecond = Math.floor(Date.now() / 1000);
function refreshDate(now: number): void {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateHeader = new Date(now).toUTCString();
  }
}

/** A request whose head has been read; its body (if any) comes through `readBody`. */
export class ServerRequest {
  /** The client sent `Expect: 100-continue` and waits for it before its body. */
  readonly expectsContinue: boolean;
  /** @internal */
  sink: BodySink | null = null;
  /** @internal */
  backlog: Buffer[] | null = null;
  /** @internal Reads this request's body from the connection's bytes; it outlives the connection's interest in the request. */
  readonly body: BodyReader;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly minor: number,
    /** Lower-case names, repeated fields joined with ", ". */
    readonly headers: ReadonlyMap<string, string>,
    /** Name, value, name, value... as sent. */
    readonly rawHeaders: readonly string[],
    readonly framing: Framing,
    readonly remoteAddress: string,
    private readonly connection: Connection,
  ) {
    this.body = new BodyReader(framing, (data) => connection.bodyData(this, data));
    this.expectsContinue = !this.complete && headers.get('expect')?.toLowerCase() === '100-continue';
  }

  /** Every body byte has been read (true at once for a request without a body). */
  get complete(): boolean {
    return this.body.done;
  }

  get hasBody(): boolean {
    return this.framing.kind !== 'none';
  }

  /** Arrived over TLS. */
  get secure(): boolean {
    return this.connection.secure;
  }

  /** Payload bytes of the body read so far. */
  get bodyBytes(): number {
    return this.body.bytes;
  }

  /** Starts the body flowing to `sink` (answering `Expect: 100-continue` if the client waits for it). */
  readBody(sink: BodySink): void {
    this.connection.attachSink(this, sink);
  }

  /** Stops reading from the client (back-pressure: the body's destination is full). */
  pause(): void {
    this.connection.wire.pause();
  }

  resume(): void {
    this.connection.wire.resume();
  }
}

export type OutgoingHeaders = Record<string, string | number | readonly string[]>;

/** The answer to one request: either whole (`send`) or streamed (`writeHead`, `write`, `end`). */
export class ServerResponse {
  statusCode = 0;
  headersSent = false;
  /** The whole response has been handed to the socket. */
  finished = false;
  private chunked = false;
  private closeAfter = false;
  private drainWaiter: (() => void) | null = null;
  private closeListeners: Array<(finished: boolean) => void> = [];

  constructor(
    private readonly req: ServerRequest,
    private readonly connection: Connection,
  ) {}

  /** The connection is gone (the client left, or it was destroyed). */
  get destroyed(): boolean {
    return this.connection.wire.destroyed;
  }

  /** Called once, when the response is finished (true) or the connection closed before that (false). */
  onClose(listener: (finished: boolean) => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends a whole response: status, headers (Content-Length added when missing) and body, in one write. */
  send(status: number, headers: OutgoingHeaders | readonly string[], body?: Buffer | string): void {
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    const head = this.head(status, headers, payload?.length ?? 0, true);
    const withBody = payload !== undefined && payload.length > 0 && this.req.method !== 'HEAD';
    this.connection.write(withBody ? headAndBody(head, payload) : head);
    this.finish();
  }

  /** Starts a streamed response: the head is written now, the body by `write` and `end`. */
  writeHead(status: number, headers: OutgoingHeaders | readonly string[]): void {
    this.connection.write(this.head(status, headers, -1, false));
  }

  /** Writes part of a streamed body; false once the socket's buffer is full (wait for `onDrain`). */
  write(chunk: Buffer): boolean {
    if (this.req.method === 'HEAD' || chunk.length === 0) return true;
    return this.chunked ? writeChunk(this.connection.wire, chunk) : this.connection.write(chunk);
  }

  /** Calls `listener` once the socket can take more. */
  onDrain(listener: () => void): void {
    this.drainWaiter = listener;
  }

  end(): void {
    if (this.finished) return;
    if (this.chunked) this.connection.write(LAST_CHUNK);
    this.finish();
  }

  /**
   * Answers `101 Switching Protocols` with `headers` and hands the connection
   * over: from now on its bytes go to `handler` (bytes the client sent after
   * the request head first) and the returned wire is the caller's to write,
   * end and destroy. The response counts as finished.
   */
  switchProtocols(headers: readonly string[], handler: WireHandler): Wire {
    if (this.headersSent) throw new Error('the response head was already sent');
    this.headersSent = true;
    this.statusCode = 101;
    this.finished = true;
    this.connection.write(`HTTP/1.1 101 Switching Protocols\r\n${headerLines(headers)}\r\n`);
    return this.connection.switchTo(this.req, handler);
  }

  /** Abandons the response and its connection (a response that cannot be completed must not look complete). */
  destroy(): void {
    this.connection.wire.destroy();
  }

  /** @internal */
  closed(finished: boolean): void {
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener(finished);
  }

  /** @internal The connection's socket took everything written. */
  drained(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = null;
    waiter?.();
  }

  private finish(): void {
    this.finished = true;
    this.connection.responseFinished(this.req, this.closeAfter);
  }

  /**
   * The status line and headers. `length` is the body's size for a whole
   * response, -1 for a streamed one (chunked in HTTP/1.1 unless it states a
   * length; close-delimited in HTTP/1.0).
   */
  private head(status: number, headers: OutgoingHeaders | readonly string[], length: number, whole: boolean): string {
    if (this.headersSent) throw new Error('the response head was already sent');
    this.headersSent = true;
    this.statusCode = status;
    let lines = '';
    let hasLength = false;
    const add = (name: string, value: string | number): void => {
      const lower = name.toLowerCase();
      if (lower === 'content-length') hasLength = true;
      // The server frames the body and manages the connection itself: a caller's own values would contradict what it writes.
      else if (lower === 'transfer-encoding' || lower === 'connection' || lower === 'date') return;
      lines += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) add(headers[i] as string, headers[i + 1] as string);
    } else {
      for (const name in headers as OutgoingHeaders) {
        const value = (headers as OutgoingHeaders)[name];
        if (typeof value === 'object') for (const item of value) add(name, item);
        else add(name, value);
      }
    }
    const bodiless = status === 204 || status === 304 || status < 200;
    if (!hasLength && !bodiless) {
      if (whole) {
        if (this.req.method !== 'HEAD' || length > 0) lines += `content-length: ${length}\r\n`;
      } else if (this.req.minor === 1) {
        this.chunked = true;
        lines += 'transfer-encoding: chunked\r\n';
      } else {
        this.closeAfter = true;
      }
    }
    if (this.req.method === 'HEAD') this.chunked = false;
    this.closeAfter ||= this.connection.mustCloseAfter(this.req);
    const connection = this.closeAfter ? 'close' : this.req.minor === 0 ? 'keep-alive' : null;
    return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${lines}date: ${dateHeader}\r\n${connection ? `connection: ${connection}\r\n` : ''}\r\n`;
  }
}

/** The head (latin1, one byte per character) and the body in one buffer, for one write. */
function headAndBody(head: string, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.write(head, 0, 'latin1');
  body.copy(out, head.length);
  return out;
}

/** One client connection: reads requests one at a time (pipelined ones wait their turn) and writes their responses in order. */
class Connection implements WireHandler {
  private pending: Buffer | null = null;
  private current: { req: ServerRequest; res: ServerResponse } | null = null;
  private headStartedAt = 0;
  private idleSince = Date.now();
  private closeRequested = false;
  private readonly remoteAddress: string;
  /** After a 101: whose the connection's bytes are now. */
  private tunnel: WireHandler | null = null;

  constructor(
    readonly wire: Wire,
    private readonly server: HttpServer,
  ) {
    this.remoteAddress = wire.remoteAddress;
  }

  get secure(): boolean {
    return this.server.secure;
  }

  onData(chunk: Buffer): void {
    if (this.tunnel) this.tunnel.onData(chunk);
    else this.received(chunk);
  }

  onEnd(): void {
    if (this.tunnel) return this.tunnel.onEnd();
    // A half-closed client gets its current response, then the connection ends; a truncated body is an aborted request.
    if (this.current && !this.current.req.complete) this.wire.destroy();
    else if (!this.current) this.wire.end();
    else this.closeRequested = true;
  }

  onDrain(): void {
    if (this.tunnel) this.tunnel.onDrain();
    else this.current?.res.drained();
  }

  onClose(error: NodeJS.ErrnoException | Error | null): void {
    this.tunnel?.onClose(error);
    const current = this.current;
    this.current = null;
    if (current) current.res.closed(current.res.finished);
    this.server.forget(this);
  }

  write(data: Buffer | string): boolean {
    return this.wire.write(data);
  }

  closeWhenIdle(): void {
    this.closeRequested = true;
    if (!this.current && !this.tunnel) this.wire.end();
  }

  /** After a 101 to `req`: the rest of the connection belongs to `handler`. */
  switchTo(req: ServerRequest, handler: WireHandler): Wire {
    const current = this.current;
    if (current?.req !== req) throw new Error('not the current request of this connection');
    this.tunnel = handler;
    this.current = null;
    current.res.closed(true);
    const early = this.pending;
    this.pending = null;
    if (early && early.length > 0) handler.onData(early);
    this.wire.resume();
    return this.wire;
  }

  checkTimeouts(now: number): void {
    // A tunnel has no HTTP timeouts: its protocol keeps itself alive (WebSocket pings), and either side may close it.
    if (this.current || this.tunnel) return;
    const { headersTimeoutMs, keepAliveTimeoutMs } = this.server.timeouts;
    if (this.headStartedAt > 0 ? now - this.headStartedAt > headersTimeoutMs : now - this.idleSince > keepAliveTimeoutMs) {
      this.wire.destroy();
    }
  }

  /** Whether the response to `req` must close the connection. */
  mustCloseAfter(req: ServerRequest): boolean {
    // A body the handler did not take would have to be read to find the next request; closing is cheaper than draining an upload.
    return this.closeRequested || this.server.isClosing || !keepsAlive(req.headers, req.minor) || (!req.complete && !req.sink);
  }

  attachSink(req: ServerRequest, sink: BodySink): void {
    if (this.current?.req !== req || req.sink) return;
    req.sink = sink;
    const backlog = req.backlog;
    req.backlog = null;
    if (backlog) {
      for (const chunk of backlog) sink.data(chunk);
      this.wire.resume();
    }
    if (req.complete) {
      sink.end();
      return;
    }
    if (req.expectsContinue && req.bodyBytes === 0) this.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  responseFinished(req: ServerRequest, closeAfter: boolean): void {
    const current = this.current;
    if (current?.req !== req) return;
    this.current = null;
    current.res.closed(true);
    if (closeAfter || !req.complete || this.closeRequested) {
      // Nothing more is read: unread body bytes or pipelined requests die with the connection.
      this.closeRequested = true;
      this.pending = null;
      this.wire.end();
      return;
    }
    this.idleSince = Date.now();
    this.wire.resume();
    // The next pipelined request, if one is waiting.
    if (this.pending) {
      const buffered = this.pending;
      this.pending = null;
      this.received(buffered);
    }
  }

  private received(chunk: Buffer): void {
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at = 0;
    try {
      while (at < buffer.length) {
        const current = this.current;
        if (current) {
          if (current.req.complete) {
            // The next request waits until this response is out (responses go in request order); a client that piles up more waits too.
            this.pending = buffer.subarray(at);
            if (this.pending.length > MAX_HEAD_BYTES) this.wire.pause();
            return;
          }
          at += current.req.body.read(buffer, at);
          if (current.req.complete) current.req.sink?.end();
          continue;
        }
        if (this.closeRequested) return;
        // Blank lines before a request line are tolerated (RFC 9112 §2.2).
        while (at + 1 < buffer.length && buffer[at] === 0x0d && buffer[at + 1] === 0x0a) at += 2;
        const end = headEnd(buffer, at);
        if (end === -1) {
          if (buffer.length - at > MAX_HEAD_BYTES)
            throw new HttpSyntaxError(431, `the request head is larger than ${MAX_HEAD_BYTES} bytes`);
          if (this.headStartedAt === 0 && buffer.length > at) this.headStartedAt = Date.now();
          this.pending = at === 0 ? buffer : buffer.subarray(at);
          return;
        }
        if (end - at > MAX_HEAD_BYTES) throw new HttpSyntaxError(431, `the request head is larger than ${MAX_HEAD_BYTES} bytes`);
        this.headStartedAt = 0;
        const head = parseRequestHead(buffer, at, end);
        at = end;
        const framing = requestFraming(head);
        const req = new ServerRequest(head.method, head.target, head.minor, head.fields, head.raw, framing, this.remoteAddress, this);
        const res = new ServerResponse(req, this);
        this.current = { req, res };
        this.server.dispatch(req, res);
      }
    } catch (error) {
      if (!(error instanceof HttpSyntaxError)) throw error;
      this.refuseUnreadable(error);
    }
  }

  /** @internal */
  bodyData(req: ServerRequest, data: Buffer): void {
    if (req.sink) req.sink.data(data);
    else {
      // Not taken (yet): kept (socket reads are fresh buffers, never reused). A handler that never takes it gets its connection closed.
      (req.backlog ??= []).push(data);
      if (req.backlog.length > 16) this.wire.pause();
    }
  }

  /** A request the gateway cannot read gets the JSON error of DESIGN.md section 8, and the connection ends (its framing is unknown). */
  private refuseUnreadable(error: HttpSyntaxError): void {
    if (this.current && this.current.res.headersSent) {
      this.wire.destroy();
      return;
    }
    const body = JSON.stringify({ error: error.status === 431 ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST', message: error.message });
    this.wire.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\ndate: ${dateHeader}\r\nconnection: close\r\n\r\n${body}`,
    );
    this.closeRequested = true;
    this.pending = null;
    const current = this.current;
    this.current = null;
    current?.res.closed(false);
  }
}
