import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Transform, TransformCallback } from 'node:stream';
import { Dispatcher, errors as undiciErrors } from 'undici';
import { GATEWAY_AUDIENCE } from '@apim/events';
import type { RoutedApi, RoutingTable } from '../routing/routing-table';
import { authenticate, Caller } from './credentials';
import { GatewayRefusal, isRefusal, refuse, sendRefusal } from './gateway-errors';
import { Limit, RateDecision, RateLimiter } from './rate-limiter';
import { smugglingRefusal, unsafePathReason } from './request-checks';
import { Upstreams } from './upstreams';

/** What the proxy learns about one request, for metrics and usage records. */
export interface ProxiedRequest {
  api: RoutedApi | null;
  applicationId: string | null;
  method: string;
  status: number;
  startedAt: number;
  /** High-resolution start, for the latency histogram. */
  startedAtHr: bigint;
  requestBytes: number;
  responseBytes: number;
}

export interface ApiProxyOptions {
  /** The current table, or null before the gateway has one (no snapshot, not caught up yet). */
  table: () => RoutingTable | null;
  upstreams: Upstreams;
  rateLimiter: RateLimiter;
  issuer: string;
  bodyLimitBytes: number;
  onDone: (request: ProxiedRequest) => void;
}

/** RFC 9110 §7.6.1 connection-specific headers, never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);
/**
 * Not forwarded upstream either: `expect: 100-continue` is answered by the
 * gateway's own HTTP server before the body comes (as nginx does), and undici
 * refuses to send it (every upload from curl over 1 KiB would get a 502).
 */
const ANSWERED_HERE = new Set(['expect']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROUTABLE = new Set(['PUBLISHED', 'DEPRECATED']);

/**
 * The request path of DESIGN.md section 8: resolve the API, check the
 * operation, authenticate offline, check the subscription, take from the rate
 * buckets, and stream the request to an upstream and its response back.
 * Nothing here waits on anything but the upstream.
 */
export class ApiProxy {
  constructor(private readonly options: ApiProxyOptions) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const done: ProxiedRequest = {
      api: null,
      applicationId: null,
      method: req.method ?? 'GET',
      status: 0,
      startedAt: Date.now(),
      startedAtHr: process.hrtime.bigint(),
      requestBytes: 0,
      responseBytes: 0,
    };
    const requestId =
      typeof req.headers['x-request-id'] === 'string' && REQUEST_ID.test(req.headers['x-request-id'])
        ? req.headers['x-request-id']
        : randomUUID();
    res.once('close', () => {
      // Closed before finishing: the client went away first, 499 as nginx counts it.
      done.status = res.writableFinished ? res.statusCode : 499;
      this.options.onDone(done);
    });

    const outcome = this.admit(req, done);
    if (isRefusal(outcome)) {
      this.refuse(req, res, outcome, requestId, outcome.headers);
      return;
    }
    this.forward(req, res, outcome, done, requestId);
  }

  /** Every check before the upstream is called; a refusal or what forwarding needs. */
  private admit(req: IncomingMessage, done: ProxiedRequest): Admitted | GatewayRefusal {
    const smuggling = smugglingRefusal(req.rawHeaders);
    if (smuggling) return smuggling;
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const unsafe = unsafePathReason(rawPath);
    if (unsafe) return refuse(400, 'BAD_REQUEST', unsafe);

    const table = this.options.table();
    if (!table) return refuse(503, 'NOT_READY', 'the gateway has not loaded its routing table yet', { 'retry-after': '1' });
    const route = table.resolve(rawPath);
    if (!route || !(ROUTABLE.has(route.api.state) || route.api.state === 'BLOCKED')) {
      return refuse(404, 'NO_SUCH_API', 'no API is published at this path');
    }
    const { api, rest } = route;
    done.api = api;
    if (api.state === 'BLOCKED') return refuse(403, 'API_BLOCKED', 'this API is blocked by its publisher');
    const matched = table.matchOperation(api, done.method, rest);
    if (!matched) return refuse(404, 'NO_SUCH_OPERATION', `this API has no operation ${done.method} ${rest}`);

    const caller = authenticate(req.headers, matched.operation, table, { issuer: this.options.issuer, audience: GATEWAY_AUDIENCE });
    if (isRefusal(caller)) return caller;
    done.applicationId = caller.applicationId;

    const limits: Limit[] = [];
    if (caller.applicationId !== null) {
      const subscription = table.subscription(caller.applicationId, api.id);
      if (!subscription) return refuse(403, 'NOT_SUBSCRIBED', 'the application is not subscribed to this API');
      if (subscription.state === 'BLOCKED')
        return refuse(403, 'SUBSCRIPTION_BLOCKED', "the application's subscription to this API is blocked");
      const tier = table.policy(subscription.tier);
      if (tier) limits.push({ key: `sub\n${caller.applicationId}\n${api.id}`, policy: tier });
      const application = table.application(caller.applicationId);
      const applicationPolicy = application ? table.policy(application.policy) : undefined;
      if (applicationPolicy) limits.push({ key: `app\n${caller.applicationId}`, policy: applicationPolicy });
    }
    const rate = this.options.rateLimiter.take(limits);
    const rateHeaders = rateLimitHeaders(rate);
    if (!rate.allowed) {
      return refuse(429, 'RATE_LIMITED', 'too many requests: retry after the time in Retry-After', {
        ...rateHeaders,
        'retry-after': String(rate.retryAfterSeconds),
      });
    }

    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.options.bodyLimitBytes) {
      return refuse(413, 'PAYLOAD_TOO_LARGE', `the request body exceeds ${this.options.bodyLimitBytes} bytes`);
    }
    const query = queryAt === -1 ? '' : url.slice(queryAt);
    return { api, rest, query, caller, rateHeaders };
  }

  /**
   * Sends the request to an upstream and relays its response (see
   * ResponseRelay). undici's dispatch API: its `stream()` wrapper costs
   * a stream and several writes per response, a third of the proxy step.
   */
  private forward(req: IncomingMessage, res: ServerResponse, admitted: Admitted, done: ProxiedRequest, requestId: string): void {
    const { api, rest, query, caller, rateHeaders } = admitted;
    const target = this.options.upstreams.next(api.id, api.upstreamUrls);
    const hasBody =
      req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    const limiter = hasBody ? new BodyLimit(this.options.bodyLimitBytes) : null;
    const relay = new ResponseRelay(res, { ...rateHeaders, 'x-request-id': requestId }, done, limiter, (error) => {
      if (limiter?.exceeded) {
        this.refuse(req, res, refuse(413, 'PAYLOAD_TOO_LARGE', `the request body exceeds ${this.options.bodyLimitBytes} bytes`), requestId);
      } else if (!res.headersSent && !res.destroyed) {
        this.refuse(req, res, upstreamRefusal(error, api.upstreamTimeoutMs), requestId, rateHeaders);
      } else {
        res.destroy();
      }
    });
    // A client that goes away takes its upstream request with it.
    res.once('close', () => relay.abandon());
    target.pool.dispatch(
      {
        path: target.basePath + rest + query,
        method: req.method as 'GET',
        headers: upstreamHeaders(req, caller, requestId),
        body: limiter ? req.pipe(limiter) : null,
        headersTimeout: api.upstreamTimeoutMs,
        bodyTimeout: api.upstreamTimeoutMs,
      },
      relay,
    );
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    refusal: GatewayRefusal,
    requestId: string,
    headers?: Record<string, string>,
  ): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body the gateway will not read would otherwise sit in the socket; closing is cheaper than draining an attacker's upload.
    const unread = !req.complete && (req.headers['content-length'] ?? '0') !== '0';
    sendRefusal(res, refusal, { ...headers, 'x-request-id': requestId, ...(unread ? { connection: 'close' } : {}) });
  }
}

interface Admitted {
  api: RoutedApi;
  rest: string;
  query: string;
  caller: Caller;
  rateHeaders: Record<string, string>;
}

function rateLimitHeaders(rate: RateDecision): Record<string, string> {
  if (rate.limit === 0) return {};
  return {
    'ratelimit-limit': String(rate.limit),
    'ratelimit-remaining': String(rate.remaining),
    'ratelimit-reset': String(rate.resetSeconds),
  };
}

function upstreamRefusal(error: unknown, timeoutMs: number): GatewayRefusal {
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
    return refuse(504, 'UPSTREAM_TIMEOUT', `the upstream did not answer within ${timeoutMs} ms`);
  }
  if (error instanceof undiciErrors.ConnectTimeoutError)
    return refuse(502, 'UPSTREAM_ERROR', 'the upstream could not be reached (connect timeout)');
  const code = (error as { code?: string }).code;
  return refuse(502, 'UPSTREAM_ERROR', `the upstream could not be reached${code ? ` (${code})` : ''}`);
}

/** The client's headers minus hop-by-hop ones and the credential the gateway consumed, plus X-Forwarded-* and x-request-id. */
function upstreamHeaders(req: IncomingMessage, caller: Caller, requestId: string): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const connectionListed = listedInConnection(req.headers);
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || ANSWERED_HERE.has(name) || connectionListed?.has(name)) continue;
    if (name === caller.credentialHeader) continue;
    headers[name] = value;
  }
  const clientIp = req.socket.remoteAddress ?? '';
  const forwardedFor = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${clientIp}` : clientIp;
  headers['x-forwarded-proto'] = 'http';
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  headers['x-request-id'] = requestId;
  if (caller.applicationId) headers['x-apim-application-id'] = caller.applicationId;
  return headers;
}

function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionListed = listedInConnection(headers);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || (HOP_BY_HOP.has(name) && name !== 'host') || connectionListed?.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function listedInConnection(headers: IncomingHttpHeaders): Set<string> | undefined {
  const connection = headers.connection;
  if (!connection) return undefined;
  return new Set(connection.split(',').map((token) => token.trim().toLowerCase()));
}

/** Upstream responses up to this size are sent to the client in one write, as nginx's proxy buffering does. */
const BUFFER_BYTES = 64 * 1024;

/**
 * Relays an upstream's response to the client. A response up to
 * BUFFER_BYTES is collected and sent with its head in one write (one
 * system call, where streaming took one per part); a bigger one, or one that
 * declares a bigger length, is streamed as it comes, with back-pressure.
 */
class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private chunks: Buffer[] = [];
  private bytes = 0;
  private streaming = false;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly extraHeaders: Record<string, string>,
    private readonly done: ProxiedRequest,
    /** The request body on its way upstream (counted), or null for none. */
    private readonly requestBody: BodyLimit | null,
    private readonly onFailure: (error: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.controller = controller;
    this.status = statusCode;
    this.headers = { ...responseHeaders(headers), ...this.extraHeaders };
    const length = headers['content-length'];
    if (typeof length === 'string') this.done.responseBytes = Number(length);
    if (Number(length) > BUFFER_BYTES) this.startStreaming();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.streaming) {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      if (this.bytes > BUFFER_BYTES) this.startStreaming();
      return;
    }
    this.write(controller, chunk);
  }

  onResponseEnd(): void {
    this.settle();
    if (this.streaming) {
      this.res.end();
      return;
    }
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    // A length the upstream did not state (a chunked response, read whole) is now known; a HEAD answer has no body to measure.
    if (this.done.method !== 'HEAD') {
      if (this.headers['content-length'] === undefined && this.status !== 204 && this.status !== 304)
        this.headers['content-length'] = String(body.length);
      this.done.responseBytes = body.length;
    }
    this.res.writeHead(this.status, this.headers);
    this.res.end(body);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.settle();
    this.onFailure(error);
  }

  /** The client went away: stop the upstream request if it is still running. */
  abandon(): void {
    if (!this.ended && this.controller && !this.controller.aborted) this.controller.abort(new Error('the client closed the connection'));
  }

  /** The exchange with the upstream is over: what the request sent is known. */
  private settle(): void {
    this.ended = true;
    this.done.requestBytes = this.requestBody?.bytes ?? 0;
  }

  private startStreaming(): void {
    this.streaming = true;
    this.res.writeHead(this.status, this.headers);
    const chunks = this.chunks;
    this.chunks = [];
    for (const chunk of chunks) this.write(this.controller, chunk);
  }

  private write(controller: Dispatcher.DispatchController | undefined, chunk: Buffer): void {
    if (this.res.write(chunk) || !controller || controller.paused) return;
    controller.pause();
    this.res.once('drain', () => controller.resume());
  }
}

/** Counts a streamed request body and fails the stream once it passes the limit (chunked bodies declare no length). */
class BodyLimit extends Transform {
  bytes = 0;
  exceeded = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.exceeded = true;
      callback(new Error('request body too large'));
      return;
    }
    callback(null, chunk);
  }
}
