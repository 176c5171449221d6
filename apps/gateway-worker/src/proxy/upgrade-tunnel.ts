import {
  BodyReader,
  headEnd,
  headerLines,
  HttpSyntaxError,
  MAX_HEAD_BYTES,
  parseResponseHead,
  responseFraming,
  ResponseHead,
} from '../http/http1';
import type { ServerRequest, ServerResponse } from '../http/http-server';
import { UpstreamPool } from '../http/upstream-pool';
import { Wire, WireHandler } from '../http/wire';
import { GatewayRefusal, refuse } from './gateway-errors';
import { listedInConnection, responseHeaders } from './hop-by-hop';

/** A refused upgrade's body is relayed up to this size; a bigger one is a 502. */
const REFUSAL_BODY_BYTES = 1024 * 1024;

/**
 * The protocol a request asks to switch to (RFC 9110 §7.8): a GET without a
 * body whose Connection field lists `upgrade` and that names one in Upgrade,
 * as every WebSocket handshake does (RFC 6455 §4.1). Null for any other request.
 */
export function upgradeWanted(req: ServerRequest): string | null {
  if (req.method !== 'GET' || req.hasBody) return null;
  const upgrade = req.headers.get('upgrade');
  return upgrade && listedInConnection(req.headers.get('connection'))?.has('upgrade') ? upgrade : null;
}

export interface TunnelRequest {
  pool: UpstreamPool;
  /** Path and query at the upstream. */
  path: string;
  /** Forwarded fields (hop-by-hop ones removed); Connection and Upgrade are added here. */
  headers: readonly string[];
  protocol: string;
  /** For the upstream's answer to the handshake, as for any response head. */
  timeoutMs: number;
  /** Fields the gateway adds to its answer (x-request-id, rate limit headers). */
  extraHeaders: readonly string[];
  /** The upstream could not be reached or did not answer: the caller answers the client. */
  onFailure(refusal: GatewayRefusal): void;
  /** Counts the handshake while it is in progress, and the tunnel while it is open. */
  count: TunnelCount;
}

/** Open tunnels of a gateway, against its WEBSOCKET_MAX_CONNECTIONS. */
export class TunnelCount {
  open = 0;
  /** Handshakes in progress: counted against the limit too, so that a burst cannot pass it. */
  pending = 0;

  constructor(readonly max: number) {}

  get full(): boolean {
    return this.open + this.pending >= this.max;
  }
}

/**
 * A protocol upgrade through the gateway. The handshake goes to the upstream
 * on a connection of its own (never pooled); a 101 is relayed and from then
 * on both connections carry raw bytes both ways, with back-pressure, until
 * either side closes. Any other answer (the upstream refused the upgrade) is
 * relayed as a whole response, and the upstream connection closed.
 */
export class UpgradeTunnel implements WireHandler {
  private readonly upstream: Wire;
  private client: Wire | null = null;
  private pending: Buffer | null = null;
  private refusal: { head: ResponseHead; body: BodyReader; chunks: Buffer[] } | null = null;
  private timer: NodeJS.Timeout | null;
  private settled = false;

  constructor(
    private readonly req: ServerRequest,
    private readonly res: ServerResponse,
    private readonly request: TunnelRequest,
  ) {
    request.count.pending++;
    this.upstream = request.pool.connectTunnel(this);
    this.timer = setTimeout(
      () => this.fail(refuse(504, 'UPSTREAM_TIMEOUT', `the upstream did not answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    // The client leaving before the answer takes the upstream connection with it.
    res.onClose((finished) => {
      if (!finished) this.upstream.destroy();
    });
  }

  onConnect(): void {
    const { pool, path, headers, protocol } = this.request;
    this.upstream.write(
      `GET ${path} HTTP/1.1\r\nhost: ${pool.hostHeader}\r\n${headerLines(headers)}connection: upgrade\r\nupgrade: ${protocol}\r\n\r\n`,
    );
  }

  onData(chunk: Buffer): void {
    if (this.client) {
      if (!this.client.write(chunk)) this.upstream.pause();
      return;
    }
    if (this.refusal) return this.readRefusal(chunk, 0);
    const buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    const end = headEnd(buffer, 0);
    if (end === -1) {
      if (buffer.length > MAX_HEAD_BYTES) this.fail(refuse(502, 'UPSTREAM_ERROR', 'the upstream sent a response head that is too large'));
      else this.pending = buffer;
      return;
    }
    let head: ResponseHead;
    try {
      head = parseResponseHead(buffer, 0, end);
    } catch (error) {
      if (!(error instanceof HttpSyntaxError)) throw error;
      return this.fail(refuse(502, 'UPSTREAM_ERROR', 'the upstream sent a response that is not valid HTTP/1.1'));
    }
    if (head.status === 101) return this.switchProtocols(head, buffer.subarray(end));
    if (head.status < 200) return this.onData(buffer.subarray(end)); // 1xx informational: the real answer follows
    const chunks: Buffer[] = [];
    this.refusal = { head, chunks, body: new BodyReader(responseFraming(head, 'GET'), (part) => chunks.push(Buffer.from(part))) };
    this.readRefusal(buffer, end);
  }

  onEnd(): void {
    if (this.client) return this.client.end();
    if (this.refusal?.body.end()) return this.relayRefusal();
    this.fail(refuse(502, 'UPSTREAM_ERROR', 'the upstream closed the connection before it answered'));
  }

  onDrain(): void {
    this.client?.resume();
  }

  onClose(error: Error | null): void {
    if (this.client) return this.client.destroy();
    this.fail(
      refuse(502, 'UPSTREAM_ERROR', `the upstream could not be reached${error && 'code' in error && error.code ? ` (${error.code})` : ''}`),
    );
  }

  private switchProtocols(head: ResponseHead, early: Buffer): void {
    this.settle();
    // The client left meanwhile (its close destroys the upstream too, but the answer may come in the same turn).
    if (this.res.destroyed || this.res.headersSent) return this.upstream.destroy();
    const count = this.request.count;
    count.open++;
    // The connection's own fields are the gateway's to state, as in any response it relays.
    const headers = responseHeaders(head, this.request.extraHeaders);
    headers.push('connection', 'upgrade', 'upgrade', head.fields.get('upgrade') ?? this.request.protocol);
    const upstream = this.upstream;
    this.client = this.res.switchProtocols(headers, {
      onData: (chunk) => {
        if (!upstream.write(chunk)) this.client?.pause();
      },
      onEnd: () => upstream.end(),
      onDrain: () => upstream.resume(),
      // Called once, last (WireHandler).
      onClose: () => {
        count.open--;
        upstream.destroy();
      },
    });
    if (early.length > 0 && !this.client.write(early)) upstream.pause();
  }

  private readRefusal(buffer: Buffer, from: number): void {
    const refusal = this.refusal!;
    refusal.body.read(buffer, from);
    if (refusal.body.bytes > REFUSAL_BODY_BYTES)
      return this.fail(refuse(502, 'UPSTREAM_ERROR', 'the upstream refused the upgrade with a body too large to relay'));
    if (refusal.body.done) this.relayRefusal();
  }

  /** The upstream answered the handshake with a response of its own: relayed whole, and the upstream connection closed. */
  private relayRefusal(): void {
    if (this.settled) return;
    this.settle();
    const { head, chunks } = this.refusal!;
    if (!this.res.destroyed) this.res.send(head.status, responseHeaders(head, this.request.extraHeaders), Buffer.concat(chunks));
    this.upstream.destroy();
  }

  private fail(refusal: GatewayRefusal): void {
    if (this.settled) return;
    this.settle();
    this.upstream.destroy();
    if (!this.req.complete || this.res.destroyed) return;
    this.request.onFailure(refusal);
  }

  private settle(): void {
    if (!this.settled) this.request.count.pending--;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
