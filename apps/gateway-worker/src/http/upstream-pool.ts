import { isIP } from 'node:net';
import {
  BodyReader,
  Framing,
  headEnd,
  headerLines,
  HttpSyntaxError,
  keepsAlive,
  LAST_CHUNK,
  MAX_HEAD_BYTES,
  parseResponseHead,
  ResponseHead,
  responseFraming,
  writeChunk,
} from './http1';
import { ConnectOptions, connectWire, SocketsKind, Wire, WireHandler } from './wire';

/**
 * Keep-alive HTTP/1.1 connections to one upstream origin, on wires (wire.ts): a
 * request head (and a small body) in one write, the response read with the
 * gateway's own parser, no stream objects per exchange. One request per
 * connection at a time (no pipelining), as undici's default and nginx do.
 */

export interface UpstreamPoolOptions {
  /** Most connections open at once; further requests wait for one. */
  connections: number;
  /** An idle connection is closed after this time. */
  keepAliveTimeoutMs: number;
  connectTimeoutMs: number;
  /** CA certificates trusted for an https upstream instead of Node's (which NODE_EXTRA_CA_CERTS extends). */
  ca?: string | Buffer;
  /** Which sockets to use for plain-HTTP upstreams (wire.ts); raw unless said otherwise. */
  sockets?: SocketsKind;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query, starting with '/'. */
  path: string;
  /** Name, value pairs to send (hop-by-hop fields already removed); Host comes from the origin. */
  headers: readonly string[];
  /** How the request body will come through `Exchange.write`: none, a known length, or chunked. */
  body: Framing;
  /**
   * The response head must come within this time of the request's last byte
   * (a slow upload that keeps moving does not time out), and each part of its
   * body within this time of the last.
   */
  timeoutMs: number;
}

export interface ExchangeHandler {
  onHead(head: ResponseHead): void;
  /** A part of the response body: a view, to be used or copied during the call. */
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(error: UpstreamError): void;
}

export type UpstreamFailure = 'connect' | 'connect-timeout' | 'timeout' | 'reset' | 'protocol';

/** Why an exchange failed, without anything from the request (it may carry credentials). */
export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailure,
    readonly code?: string,
  ) {
    super(`upstream ${kind}${code ? ` (${code})` : ''}`);
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const EXPECTS_BODY = new Set(['POST', 'PUT', 'PATCH']);
/** Request body bytes held while the connection is not ready, before `write` asks the caller to wait. */
const HOLD_BYTES = 64 * 1024;

/** One request and its response, from the caller's side. */
export class Exchange {
  /** @internal */ connection: UpstreamConnection | null = null;
  /** @internal */ held: Buffer[] = [];
  /** @internal */ heldBytes = 0;
  /** @internal */ bodyEnded: boolean;
  /** @internal */ finished = false;
  /** @internal */ responseStarted = false;
  /** @internal */ retried = false;
  private drainListener: (() => void) | null = null;

  constructor(
    readonly request: UpstreamRequest,
    /** @internal */ readonly handler: ExchangeHandler,
    private readonly pool: UpstreamPool,
  ) {
    this.bodyEnded = request.body.kind === 'none';
  }

  /** Sends part of the request body; false when the caller should wait for `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.finished || this.bodyEnded) return true;
    if (this.connection) return this.connection.writeBody(chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    return this.heldBytes < HOLD_BYTES;
  }

  /** The request body is complete. */
  end(): void {
    if (this.bodyEnded) return;
    this.bodyEnded = true;
    this.connection?.endBody();
  }

  onDrain(listener: () => void): void {
    this.drainListener = listener;
  }

  /** Stops reading the response (the client is slower than the upstream). */
  pause(): void {
    this.connection?.wire.pause();
  }

  resume(): void {
    this.connection?.wire.resume();
  }

  /** The caller lost interest (its client left): the connection is closed unless the exchange is already over. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.connection) this.connection.wire.destroy();
    else this.pool.unqueue(this);
  }

  /** @internal */
  drained(): void {
    const listener = this.drainListener;
    this.drainListener = null;
    listener?.();
  }
}

export class UpstreamPool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly connections = new Set<UpstreamConnection>();
  private readonly waiting: Exchange[] = [];
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;
  /** @internal */ readonly hostHeader: string;

  constructor(
    /** @internal */ readonly origin: URL,
    /** @internal */ readonly options: UpstreamPoolOptions,
  ) {
    this.hostHeader = origin.host;
    this.sweeper = setInterval(() => this.closeExpired(), Math.min(1000, options.keepAliveTimeoutMs));
    this.sweeper.unref();
  }

  request(request: UpstreamRequest, handler: ExchangeHandler): Exchange {
    const exchange = new Exchange(request, handler, this);
    this.dispatch(exchange);
    return exchange;
  }

  /**
   * A connection to this origin outside the pool, for a protocol upgrade
   * (a WebSocket): its owner writes the request and reads the answer itself.
   * `handler.onConnect` says when it is up; it is never reused.
   */
  connectTunnel(handler: WireHandler): Wire {
    return connectWire(this.options.sockets ?? 'raw', this.connectOptions(), handler);
  }

  /** @internal Where and how connections to this origin go. */
  connectOptions(): ConnectOptions {
    const { hostname, port, protocol } = this.origin;
    const host = hostname.replace(/^\[|\]$/g, '');
    const tls = protocol === 'https:';
    return {
      host,
      port: Number(port || (tls ? 443 : 80)),
      tls: tls ? { servername: isIP(host) ? undefined : host, ca: this.options.ca } : undefined,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const exchange of this.waiting.splice(0)) this.fail(exchange, new UpstreamError('connect', 'POOL_CLOSED'));
    this.idle.length = 0;
    for (const connection of this.connections) connection.wire.destroy();
  }

  /** @internal */
  dispatch(exchange: Exchange): void {
    if (this.closed) return this.fail(exchange, new UpstreamError('connect', 'POOL_CLOSED'));
    const connection = this.idle.pop();
    if (connection) connection.assign(exchange);
    else if (this.connections.size < this.options.connections) this.connect(exchange);
    else this.waiting.push(exchange);
  }

  /** @internal */
  unqueue(exchange: Exchange): void {
    const at = this.waiting.indexOf(exchange);
    if (at !== -1) this.waiting.splice(at, 1);
  }

  /** @internal A connection finished its exchange and can take another. */
  release(connection: UpstreamConnection): void {
    const next = this.waiting.shift();
    if (next) connection.assign(next);
    else this.idle.push(connection);
  }

  /** @internal A connection is gone: a waiting exchange may open another. */
  gone(connection: UpstreamConnection): void {
    this.connections.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
    const next = this.waiting.shift();
    if (next) this.dispatch(next);
  }

  /** @internal */
  fail(exchange: Exchange, error: UpstreamError): void {
    if (exchange.finished) return;
    exchange.finished = true;
    exchange.handler.onError(error);
  }

  private connect(first: Exchange): void {
    this.connections.add(new UpstreamConnection(this, first));
  }

  private closeExpired(): void {
    const oldest = Date.now() - this.options.keepAliveTimeoutMs;
    for (let i = this.idle.length - 1; i >= 0; i--) {
      if (this.idle[i].idleSince < oldest) this.idle[i].wire.destroy();
    }
  }
}

/** One connection to the upstream; serves one exchange at a time. */
class UpstreamConnection implements WireHandler {
  readonly wire: Wire;
  idleSince = 0;
  private current: Exchange | null = null;
  private connected = false;
  private served = 0;
  private pending: Buffer | null = null;
  private body: BodyReader | null = null;
  private reusable = true;
  private timer: NodeJS.Timeout | null = null;
  private chunkedBody = false;

  constructor(
    private readonly pool: UpstreamPool,
    first: Exchange,
  ) {
    // `first` learns of this connection once its head is written (its body must not go out before).
    this.current = first;
    this.wire = connectWire(pool.options.sockets ?? 'raw', pool.connectOptions(), this);
    this.startTimer(pool.options.connectTimeoutMs, () => this.wire.destroy(new UpstreamError('connect-timeout')));
  }

  onConnect(): void {
    this.connected = true;
    if (this.current && !this.current.finished) this.send(this.current);
    else {
      this.current = null;
      this.free();
    }
  }

  onData(chunk: Buffer): void {
    this.received(chunk);
  }

  onEnd(): void {
    this.ended();
  }

  onDrain(): void {
    this.current?.drained();
  }

  onClose(error: NodeJS.ErrnoException | Error | null): void {
    if (error) this.failed(error);
    this.stopTimer();
    if (this.current) this.failed(new UpstreamError('reset', 'ECONNRESET'));
    this.pool.gone(this);
  }

  assign(exchange: Exchange): void {
    this.current = exchange;
    this.send(exchange);
  }

  writeBody(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    // An upload in progress is activity: the upstream cannot answer before it ends, so the wait for its head restarts.
    this.timer?.refresh();
    return this.chunkedBody ? writeChunk(this.wire, chunk) : this.wire.write(chunk);
  }

  endBody(): void {
    this.timer?.refresh();
    if (this.chunkedBody) this.wire.write(LAST_CHUNK);
  }

  private send(exchange: Exchange): void {
    if (!this.connected) return;
    const { method, path, headers, body, timeoutMs } = exchange.request;
    this.chunkedBody = body.kind === 'chunked';
    const framing =
      body.kind === 'length'
        ? `content-length: ${body.length}\r\n`
        : this.chunkedBody
          ? 'transfer-encoding: chunked\r\n'
          : EXPECTS_BODY.has(method)
            ? 'content-length: 0\r\n'
            : '';
    const head = `${method} ${path} HTTP/1.1\r\nhost: ${this.pool.hostHeader}\r\n${headerLines(headers)}${framing}\r\n`;
    this.startTimer(timeoutMs, () => this.timedOut());
    exchange.connection = this;
    const held = exchange.held;
    exchange.held = [];
    exchange.heldBytes = 0;
    if (held.length === 0 || this.chunkedBody) {
      this.wire.write(head);
      for (const chunk of held) this.writeBody(chunk);
    } else {
      this.wire.write(Buffer.concat([Buffer.from(head, 'latin1'), ...held]));
    }
    if (exchange.bodyEnded) this.endBody();
    if (held.length > 0) exchange.drained();
  }

  private received(chunk: Buffer): void {
    const exchange = this.current;
    if (!exchange) {
      // Bytes nobody asked for: the connection's framing cannot be trusted any more.
      this.wire.destroy();
      return;
    }
    this.timer?.refresh();
    exchange.responseStarted = true;
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    try {
      let at = 0;
      while (!this.body) {
        const end = headEnd(buffer, at);
        if (end === -1) {
          if (buffer.length - at > MAX_HEAD_BYTES) throw new HttpSyntaxError(502, 'the upstream sent a head larger than 16 KiB');
          this.pending = buffer.subarray(at);
          return;
        }
        const head = parseResponseHead(buffer, at, end);
        at = end;
        if (head.status < 200) {
          if (head.status === 101) throw new HttpSyntaxError(502, 'the upstream switched protocols');
          continue; // 100 Continue, 103 Early Hints: interim, not relayed.
        }
        const framing = responseFraming(head, exchange.request.method);
        this.reusable = keepsAlive(head.fields, head.minor) && framing.kind !== 'close';
        this.body = new BodyReader(framing, (data) => this.current?.handler.onData(data));
        exchange.handler.onHead(head);
        if (this.current !== exchange) return; // aborted from within onHead
      }
      if (at < buffer.length) {
        const used = this.body.read(buffer, at);
        if (at + used < buffer.length && this.body.done) this.reusable = false; // more than the response: untrustworthy
      }
      if (this.body.done) this.complete();
    } catch (error) {
      this.wire.destroy(error instanceof HttpSyntaxError ? new UpstreamError('protocol') : (error as Error));
    }
  }

  private complete(): void {
    const exchange = this.current!;
    this.current = null;
    this.body = null;
    this.stopTimer();
    this.served++;
    exchange.connection = null;
    if (!exchange.finished) {
      exchange.finished = true;
      exchange.handler.onEnd();
    }
    // A request body still on its way makes the connection's state unknown.
    if (this.reusable && exchange.bodyEnded && !this.wire.destroyed) this.free();
    else this.wire.destroy();
  }

  private free(): void {
    this.idleSince = Date.now();
    // The last exchange may have paused reading (a slow client); the next one starts fresh.
    this.wire.resume();
    this.pool.release(this);
  }

  private ended(): void {
    // A close-delimited body ends here; anything else in progress was cut short.
    if (this.current && this.body?.end()) this.complete();
    this.wire.destroy();
  }

  private timedOut(): void {
    this.wire.destroy(new UpstreamError('timeout'));
  }

  private failed(error: NodeJS.ErrnoException | Error): void {
    const exchange = this.current;
    if (!exchange) return;
    this.current = null;
    exchange.connection = null;
    this.stopTimer();
    const failure =
      error instanceof UpstreamError
        ? error
        : new UpstreamError(this.connected ? 'reset' : 'connect', (error as NodeJS.ErrnoException).code ?? 'ECONNRESET');
    // A kept-alive connection the upstream closed just as it was reused: a bodiless idempotent request is safe to send once more.
    if (
      this.served > 0 &&
      !exchange.responseStarted &&
      !exchange.retried &&
      !exchange.finished &&
      exchange.request.body.kind === 'none' &&
      IDEMPOTENT.has(exchange.request.method) &&
      failure.kind === 'reset'
    ) {
      exchange.retried = true;
      this.pool.dispatch(exchange);
      return;
    }
    this.pool.fail(exchange, failure);
  }

  private startTimer(ms: number, onTimeout: () => void): void {
    this.stopTimer();
    this.timer = setTimeout(onTimeout, ms);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
