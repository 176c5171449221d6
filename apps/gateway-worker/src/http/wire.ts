import { lookup } from 'node:dns';
import { connect as connectNet, createServer, isIP, isIPv6, Server, Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer, SecureContextOptions } from 'node:tls';
import { getSystemErrorName, types } from 'node:util';
import { SERVER_TLS_OPTIONS } from '@apim/events';

/**
 * The byte pipe under the gateway's HTTP server and upstream pool: a TCP
 * connection with one handler object instead of stream events.
 *
 * Two implementations. `RawWire` drives libuv's TCP handle through the same
 * bindings `node:net` is built on (`tcp_wrap`, `stream_wrap`), without a
 * net.Socket and its Readable/Writable machinery around it: a proxied request
 * costs about 2.5x less CPU that way (docs/architecture.md, "Throughput").
 * Those bindings are Node's internals, reached through the deprecated
 * `process.binding`, so `rawBindings()` checks their shape at start and the
 * gateway falls back to `NodeWire` (net.Socket) when they are missing or
 * different, or when `GATEWAY_SOCKETS=node` asks for it. TLS upstreams always
 * use NodeWire over node:tls.
 */

export interface WireHandler {
  /** The connection is established (connecting wires only). */
  onConnect?(): void;
  /** Bytes from the peer: a buffer of its own, which may be kept. */
  onData(chunk: Buffer): void;
  /** The peer finished sending (FIN); writing is still possible. */
  onEnd(): void;
  /** Everything written has reached the kernel. */
  onDrain(): void;
  /** Once, last: the connection is gone, with the error that ended it if any. */
  onClose(error: NodeJS.ErrnoException | Error | null): void;
}

export interface Wire {
  readonly remoteAddress: string;
  readonly destroyed: boolean;
  /** Not ended and not destroyed. */
  readonly writable: boolean;
  /**
   * Writes bytes (a string is latin1); false when they were queued behind a
   * full kernel buffer: wait for onDrain. A raw wire sends them at the end of
   * this event-loop turn, with the turn's other writes (see `batch`): the
   * bytes must not change after the call.
   */
  write(data: Buffer | string): boolean;
  /** Writes several buffers in one system call where possible. */
  writeParts(parts: Buffer[]): boolean;
  /** Sends what is queued, then FIN; the wire closes once the peer finishes too (or after a short linger). */
  end(data?: string): void;
  destroy(error?: Error): void;
  pause(): void;
  resume(): void;
}

export type SocketsKind = 'raw' | 'node';

export interface WireListener {
  readonly port: number;
  /** Stops accepting; open wires are not touched. */
  close(callback: () => void): void;
  /** A TLS listener's certificate and key for connections from now on (open ones keep theirs). */
  setSecureContext?(options: ServerTls): void;
}

/** What a TLS listener presents: PEM certificate chain and private key. */
export type ServerTls = Pick<SecureContextOptions, 'cert' | 'key'>;

export interface ConnectOptions {
  host: string;
  port: number;
  tls?: { servername?: string; ca?: string | Buffer };
}

/** How long an ended wire waits for the peer's FIN before closing anyway (lingering close: unread bytes would turn a close into a reset). */
const LINGER_MS = 2000;

// ---------------------------------------------------------------- raw bindings

interface RawHandle {
  onread: (this: RawHandle, arrayBuffer: ArrayBuffer | undefined) => void;
  onconnection: (status: number, client: RawHandle) => void;
  wire?: RawWire;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: object, data: Buffer): number;
  writeLatin1String(req: object, data: string): number;
  writev(req: object, chunks: Buffer[], allBuffers: boolean): number;
  shutdown(req: object): number;
  close(callback: () => void): void;
  setNoDelay(enable: boolean): number;
  getpeername(out: { address?: string; port?: number }): number;
  getsockname(out: { address?: string; port?: number }): number;
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: object, address: string, port: number): number;
  connect6(req: object, address: string, port: number): number;
}

interface RawBindings {
  TCP: new (type: number) => RawHandle;
  TCPConnectWrap: new () => { oncomplete: (status: number) => void; address: string; port: number };
  WriteWrap: new () => {
    handle: RawHandle;
    oncomplete: (this: { wire?: RawWire; buffer: unknown }, status: number) => void;
    async: boolean;
    buffer: unknown;
    wire?: RawWire;
  };
  ShutdownWrap: new () => { handle: RawHandle; oncomplete: (status: number) => void };
  SOCKET: number;
  SERVER: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

/** libuv's UV_EOF, the same on every platform. */
const UV_EOF = -4095;

let bindings: RawBindings | null | undefined;

/** Node's TCP bindings if they have the shape RawWire was written against (Node 20-24), else null. */
export function rawBindings(): RawBindings | null {
  if (bindings !== undefined) return bindings;
  bindings = null;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as { TCP: unknown; TCPConnectWrap: unknown; constants: { SOCKET: number; SERVER: number } };
    const stream = binding('stream_wrap') as Record<string, unknown>;
    const numbers = ['kReadBytesOrError', 'kArrayBufferOffset', 'kLastWriteWasAsync'].map((name) => stream[name]);
    const prototype = (tcp.TCP as { prototype: Record<string, unknown> } | undefined)?.prototype;
    const methods = [
      'readStart',
      'readStop',
      'writeBuffer',
      'writeLatin1String',
      'writev',
      'shutdown',
      'close',
      'setNoDelay',
      'getpeername',
    ];
    if (
      typeof tcp.TCP === 'function' &&
      typeof tcp.TCPConnectWrap === 'function' &&
      typeof stream.WriteWrap === 'function' &&
      typeof stream.ShutdownWrap === 'function' &&
      types.isInt32Array(stream.streamBaseState) &&
      numbers.every((value) => typeof value === 'number') &&
      typeof tcp.constants?.SOCKET === 'number' &&
      methods.every((name) => typeof prototype?.[name] === 'function')
    ) {
      bindings = {
        TCP: tcp.TCP as RawBindings['TCP'],
        TCPConnectWrap: tcp.TCPConnectWrap as RawBindings['TCPConnectWrap'],
        WriteWrap: stream.WriteWrap as RawBindings['WriteWrap'],
        ShutdownWrap: stream.ShutdownWrap as RawBindings['ShutdownWrap'],
        SOCKET: tcp.constants.SOCKET,
        SERVER: tcp.constants.SERVER,
        state: stream.streamBaseState as Int32Array,
        kReadBytesOrError: numbers[0] as number,
        kArrayBufferOffset: numbers[1] as number,
        kLastWriteWasAsync: numbers[2] as number,
      };
    }
  } catch {
    bindings = null;
  }
  return bindings;
}

/** The kind asked for, if this Node can provide it; raw falls back to node. */
export function socketsKind(wanted: SocketsKind): SocketsKind {
  return wanted === 'raw' && rawBindings() ? 'raw' : 'node';
}

function errnoError(status: number, syscall: string): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `E${-status}`;
  }
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  error.code = code;
  error.errno = status;
  error.syscall = syscall;
  return error;
}

function onRawRead(this: RawHandle, arrayBuffer: ArrayBuffer | undefined): void {
  this.wire?.read(arrayBuffer);
}

/**
 * Writes of raw wires wait for the end of the event loop's turn (a
 * setImmediate after the poll phase) and go out together. Measured here: the
 * gateway's CPU per request fell from ~150 to ~100 us. A write to a loopback
 * or LAN peer that sleeps in epoll wakes it, and on a virtual machine that
 * wake-up (an inter-processor interrupt) cost more than the rest of the
 * write: written one by one as each read is handled, every response woke its
 * client again; written together after all of a turn's reads, the first wakes
 * it and the rest find it awake. nginx gets the same by handling all ready
 * events before it waits again. A turn is short (its reads are already
 * there), so no latency is added that a client could see. Order per wire is
 * kept; the bytes must not be changed after `write` returns.
 */
const batch: (RawWire | Buffer | string | Buffer[] | typeof END)[] = [];
const END = Symbol('end');
let flushing = false;

function batchWrite(wire: RawWire, data: Buffer | string | Buffer[] | typeof END): void {
  batch.push(wire, data);
  if (!flushing) {
    flushing = true;
    setImmediate(flushBatch);
  }
}

function flushBatch(): void {
  flushing = false;
  // Writes made while flushing (a drain handler writing more) join a new batch.
  const length = batch.length;
  for (let i = 0; i < length; i += 2) (batch[i] as RawWire).flush(batch[i + 1] as Buffer | string | Buffer[] | typeof END);
  batch.splice(0, length);
}

function ignoreRead(): void {}

function ignoreConnection(_status: number, client: RawHandle): void {
  client.close(() => undefined);
}

function onRawWriteDone(this: { wire?: RawWire; buffer: unknown }, status: number): void {
  this.buffer = null;
  this.wire?.written(status);
}

/** A TCP connection on libuv's handle directly (see the file comment). */
class RawWire implements Wire {
  destroyed = false;
  private ended = false;
  private peerEnded = false;
  private paused = false;
  /** Writes libuv holds (the kernel's buffer was full). */
  private queued = 0;
  /** Entries of this wire in the turn's batch (see `batch`). */
  private batched = 0;
  private shutdownSent = false;
  private linger: NodeJS.Timeout | null = null;
  private peer: string | undefined;
  private handle: RawHandle | null = null;

  constructor(
    private readonly b: RawBindings,
    /** @internal Set before the first read. */
    public handler: WireHandler,
  ) {}

  /** @internal Takes over a connected handle; reading starts with `start`. */
  attach(handle: RawHandle): void {
    this.handle = handle;
    handle.wire = this;
    handle.onread = onRawRead;
    handle.setNoDelay(true);
  }

  /** @internal */
  start(): void {
    const err = this.handle!.readStart();
    if (err) this.destroy(errnoError(err, 'read'));
  }

  get remoteAddress(): string {
    if (this.peer === undefined) {
      const out: { address?: string } = {};
      if (this.handle && !this.destroyed) this.handle.getpeername(out);
      this.peer = out.address ?? '';
    }
    return this.peer;
  }

  get writable(): boolean {
    return !this.ended && !this.destroyed && this.handle !== null;
  }

  write(data: Buffer | string): boolean {
    return this.writeOrBatch(data);
  }

  writeParts(parts: Buffer[]): boolean {
    return this.writeOrBatch(parts);
  }

  end(data?: string): void {
    if (data !== undefined) this.write(data);
    if (this.ended || this.destroyed) return;
    this.ended = true;
    if (!this.handle) return this.destroy();
    // FIN goes after this wire's batched writes.
    if (this.batched > 0) {
      this.batched++;
      batchWrite(this, END);
    } else if (this.queued === 0) this.shutdown();
  }

  /** @internal From the batch: one of this wire's writes (or its end) of this turn. */
  flush(data: Buffer | string | Buffer[] | typeof END): void {
    this.batched--;
    if (this.destroyed) return;
    if (data === END) {
      // Still waiting on libuv: `written` shuts down once it is done.
      if (this.queued === 0) this.shutdown();
    } else this.send(data);
  }

  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.linger) clearTimeout(this.linger);
    const handle = this.handle;
    const closed = () => this.handler.onClose(error ?? null);
    if (!handle) {
      process.nextTick(closed);
      return;
    }
    // Node asserts that onread is always a function.
    handle.onread = ignoreRead;
    handle.close(closed);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.handle && !this.destroyed && !this.peerEnded) this.handle.readStop();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.handle && !this.destroyed && !this.peerEnded) this.handle.readStart();
  }

  /** @internal From onread: bytes, EOF or an error. */
  read(arrayBuffer: ArrayBuffer | undefined): void {
    const state = this.b.state;
    const nread = state[this.b.kReadBytesOrError];
    if (nread > 0) {
      if (!this.destroyed && !this.shutdownSent) this.handler.onData(Buffer.from(arrayBuffer!, state[this.b.kArrayBufferOffset], nread));
      return;
    }
    if (nread === 0 || this.destroyed) return;
    if (nread !== UV_EOF) {
      this.destroy(errnoError(nread, 'read'));
      return;
    }
    this.peerEnded = true;
    this.handle!.readStop();
    if (this.shutdownSent) this.destroy();
    else this.handler.onEnd();
  }

  /** @internal A queued write finished. */
  written(status: number): void {
    if (this.destroyed) return;
    if (status < 0) {
      this.destroy(errnoError(status, 'write'));
      return;
    }
    if (--this.queued > 0) return;
    if (this.ended) this.shutdown();
    else this.handler.onDrain();
  }

  /**
   * Joins the turn's batch, unless libuv already holds writes of this wire
   * (the kernel's buffer was full): then it goes behind them, and the caller
   * is told to wait for onDrain.
   */
  private writeOrBatch(data: Buffer | string | Buffer[]): boolean {
    if (!this.writable) return false;
    if (this.queued > 0) return this.send(data);
    this.batched++;
    batchWrite(this, data);
    return true;
  }

  private send(data: Buffer | string | Buffer[]): boolean {
    const handle = this.handle!;
    const req = this.writeRequest(handle);
    const err =
      typeof data === 'string'
        ? handle.writeLatin1String(req, data)
        : Array.isArray(data)
          ? handle.writev(req, data, true)
          : handle.writeBuffer(req, data);
    return this.dispatched(req, err, data);
  }

  private writeRequest(handle: RawHandle): InstanceType<RawBindings['WriteWrap']> {
    const req = new this.b.WriteWrap();
    req.handle = handle;
    req.oncomplete = onRawWriteDone;
    req.async = false;
    return req;
  }

  private dispatched(req: InstanceType<RawBindings['WriteWrap']>, err: number, data: unknown): boolean {
    if (err !== 0) {
      this.destroy(errnoError(err, 'write'));
      return false;
    }
    if (this.b.state[this.b.kLastWriteWasAsync] === 0) return true;
    // Queued in libuv: the bytes must stay alive until it is done with them.
    req.buffer = data;
    req.wire = this;
    this.queued++;
    return false;
  }

  private shutdown(): void {
    if (this.shutdownSent || this.destroyed) return;
    this.shutdownSent = true;
    const req = new this.b.ShutdownWrap();
    req.handle = this.handle!;
    req.oncomplete = () => {
      if (this.destroyed) return;
      if (this.peerEnded) this.destroy();
      else {
        // Read (and drop) until the peer's FIN, so that its unread bytes do not turn the close into a reset that eats our response.
        this.resume();
        this.linger = setTimeout(() => this.destroy(), LINGER_MS);
        this.linger.unref();
      }
    };
    const err = this.handle!.shutdown(req);
    if (err) this.destroy();
  }
}

// ---------------------------------------------------------------- node:net

/** A Wire over a net.Socket (or tls.TLSSocket). */
class NodeWire implements Wire {
  private error: Error | null = null;

  constructor(
    readonly socket: Socket,
    handler: WireHandler,
    connectEvent?: 'connect' | 'secureConnect',
  ) {
    if (connectEvent) socket.once(connectEvent, () => handler.onConnect?.());
    socket.on('data', (chunk: Buffer) => handler.onData(chunk));
    socket.on('end', () => handler.onEnd());
    socket.on('drain', () => handler.onDrain());
    socket.on('error', (error) => {
      this.error ??= error;
    });
    socket.once('close', () => handler.onClose(this.error));
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get writable(): boolean {
    return this.socket.writable;
  }

  write(data: Buffer | string): boolean {
    if (!this.socket.writable) return false;
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  writeParts(parts: Buffer[]): boolean {
    if (!this.socket.writable) return false;
    this.socket.cork();
    let more = true;
    for (const part of parts) more = this.socket.write(part);
    this.socket.uncork();
    return more;
  }

  end(data?: string): void {
    if (data === undefined) this.socket.end();
    else this.socket.end(data, 'latin1');
  }

  destroy(error?: Error): void {
    if (error) this.error ??= error;
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

// ---------------------------------------------------------------- entry points

const UNSET: WireHandler = {
  onData: () => undefined,
  onEnd: () => undefined,
  onDrain: () => undefined,
  onClose: () => undefined,
};

/** Accepts TCP connections on host:port, each handed over as a Wire with the handler `accept` returns. */
/** Listens on `port`; with `tls`, for TLS connections (always on node:tls sockets: raw handles speak TCP only). */
export function listenWires(
  kind: SocketsKind,
  port: number,
  host: string,
  accept: (wire: Wire) => WireHandler,
  tls?: ServerTls,
): Promise<WireListener> {
  const b = kind === 'raw' && !tls ? rawBindings() : null;
  if (!b) return listenNode(port, host, accept, tls);
  const server = new b.TCP(b.SERVER);
  const ipv6 = isIPv6(host);
  let err = ipv6 ? server.bind6(host, port, 0) : server.bind(host, port);
  if (err === 0) {
    server.onconnection = (status, client) => {
      if (status !== 0) return;
      // The handler needs its wire (connected: it may ask for the peer's address) before the wire reads anything.
      const wire = new RawWire(b, UNSET);
      wire.attach(client);
      wire.handler = accept(wire);
      wire.start();
    };
    err = server.listen(511);
  }
  if (err !== 0) {
    server.close(() => undefined);
    return Promise.reject(errnoError(err, `listen ${host}:${port}`));
  }
  const out: { port?: number } = {};
  server.getsockname(out);
  return Promise.resolve({
    port: out.port ?? port,
    close: (callback) => {
      server.onconnection = ignoreConnection;
      server.close(callback);
    },
  });
}

function listenNode(port: number, host: string, accept: (wire: Wire) => WireHandler, tls?: ServerTls): Promise<WireListener> {
  // Half-open allowed: a client that shuts down its side after sending still gets its answer.
  const options = { noDelay: true, allowHalfOpen: true };
  const onSocket = (socket: Socket) => {
    let handler: WireHandler | null = null;
    const wire = new NodeWire(socket, {
      onData: (chunk) => handler!.onData(chunk),
      onEnd: () => handler!.onEnd(),
      onDrain: () => handler!.onDrain(),
      onClose: (error) => handler!.onClose(error),
    });
    handler = accept(wire);
  };
  // TLS 1.2 at least; HTTP/1.1 is the only protocol offered by ALPN. A failed handshake never reaches `accept`.
  const tlsServer = tls ? createTlsServer({ ...options, ...tls, ...SERVER_TLS_OPTIONS }, onSocket) : null;
  const server: Server = tlsServer ?? createServer(options, onSocket);
  tlsServer?.on('tlsClientError', (_error, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: (callback) => server.close(() => callback()),
        setSecureContext: tlsServer ? (context) => tlsServer.setSecureContext(context) : undefined,
      });
    });
  });
}

/** Opens a TCP (or, with `tls`, TLS) connection; `handler.onConnect` says when it is up, `onClose(error)` if it never came up. */
export function connectWire(kind: SocketsKind, options: ConnectOptions, handler: WireHandler): Wire {
  const b = kind === 'raw' && !options.tls ? rawBindings() : null;
  if (!b) {
    if (options.tls) {
      const socket = connectTls({
        host: options.host,
        port: options.port,
        servername: options.tls.servername,
        ALPNProtocols: ['http/1.1'],
        ca: options.tls.ca,
      }).setNoDelay(true);
      return new NodeWire(socket, handler, 'secureConnect');
    }
    return new NodeWire(connectNet({ host: options.host, port: options.port, noDelay: true }), handler, 'connect');
  }
  const wire = new RawWire(b, handler);
  const open = (address: string) => {
    if (wire.destroyed) return;
    const handle = new b.TCP(b.SOCKET);
    const req = new b.TCPConnectWrap();
    req.address = address;
    req.port = options.port;
    req.oncomplete = (status: number) => {
      if (wire.destroyed) {
        handle.close(() => undefined);
        return;
      }
      if (status !== 0) {
        handle.close(() => wire.destroy(errnoError(status, 'connect')));
        return;
      }
      wire.attach(handle);
      wire.start();
      if (!wire.destroyed) handler.onConnect?.();
    };
    const err = isIPv6(address) ? handle.connect6(req, address, options.port) : handle.connect(req, address, options.port);
    if (err !== 0) handle.close(() => wire.destroy(errnoError(err, 'connect')));
  };
  if (isIP(options.host)) process.nextTick(open, options.host);
  else
    lookup(options.host, (error, address) => {
      if (error) wire.destroy(error);
      else open(address);
    });
  return wire;
}
