import { randomUUID } from 'node:crypto';
import { GATEWAY_AUDIENCE } from '@apim/events';
import type { ResponseHead } from '../http/http1';
import type { ServerRequest, ServerResponse } from '../http/http-server';
import { Exchange, ExchangeHandler, UpstreamError } from '../http/upstream-pool';
import type { RoutedApi, RoutingTable } from '../routing/routing-table';
import { authenticate, Caller } from './credentials';
import { HOP_BY_HOP, listedInConnection, responseHeaders } from './hop-by-hop';
import { TunnelCount, UpgradeTunnel, upgradeWanted } from './upgrade-tunnel';
import { GatewayRefusal, isRefusal, refuse, sendRefusal } from './gateway-errors';
import { Limit, RateDecision, RateLimiter } from './rate-limiter';
import { unsafePathReason } from './request-checks';
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
  /** Open WebSockets and their limit. */
  tunnels: TunnelCount;
}

/** Not forwarded upstream either: `expect: 100-continue` is answered by the gateway itself before the body comes, as nginx does. */
const ANSWERED_HERE = new Set(['expect']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROUTABLE = new Set(['PUBLISHED', 'DEPRECATED']);

/** Rate bucket keys by the table entry they belong to: built once, not per request (a new string is hashed again at each lookup). */
const BUCKET_KEYS = new WeakMap<object, string>();

function bucketKey(entry: object, kind: string, id: string, second?: string): string {
  let key = BUCKET_KEYS.get(entry);
  if (key === undefined) BUCKET_KEYS.set(entry, (key = second === undefined ? `${kind}\n${id}` : `${kind}\n${id}\n${second}`));
  return key;
}

/**
 * The request path of DESIGN.md section 8: resolve the API, check the
 * operation, authenticate offline, check the subscription, take from the rate
 * buckets, and stream the request to an upstream and its response back.
 * Nothing here waits on anything but the upstream.
 */
export class ApiProxy {
  constructor(private readonly options: ApiProxyOptions) {}

  handle(req: ServerRequest, res: ServerResponse): void {
    const done: ProxiedRequest = {
      api: null,
      applicationId: null,
      method: req.method,
      status: 0,
      startedAt: Date.now(),
      startedAtHr: process.hrtime.bigint(),
      requestBytes: 0,
      responseBytes: 0,
    };
    const given = req.headers.get('x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.onClose((finished) => {
      // Closed before finishing: the client went away first, 499 as nginx counts it.
      done.status = finished ? res.statusCode : 499;
      done.requestBytes = req.bodyBytes;
      this.options.onDone(done);
    });

    const outcome = this.admit(req, done);
    if (isRefusal(outcome)) {
      this.refuse(res, outcome, requestId, outcome.headers);
      return;
    }
    this.forward(req, res, outcome, done, requestId);
  }

  /** Every check before the upstream is called; a refusal or what forwarding needs. Framing and smuggling shapes were refused by the HTTP server. */
  private admit(req: ServerRequest, done: ProxiedRequest): Admitted | GatewayRefusal {
    const url = req.url;
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
    // The API's own policy first: every caller of the API, anonymous ones too, shares its bucket.
    const apiPolicy = api.throttlingPolicy ? table.policy(api.throttlingPolicy) : undefined;
    if (apiPolicy) limits.push({ key: bucketKey(api, 'api', api.id), policy: apiPolicy });
    if (caller.applicationId !== null) {
      const subscription = table.subscription(caller.applicationId, api.id);
      if (!subscription) return refuse(403, 'NOT_SUBSCRIBED', 'the application is not subscribed to this API');
      if (subscription.state === 'BLOCKED')
        return refuse(403, 'SUBSCRIPTION_BLOCKED', "the application's subscription to this API is blocked");
      const tier = table.policy(subscription.tier);
      if (tier) limits.push({ key: bucketKey(subscription, 'sub', subscription.applicationId, subscription.apiId), policy: tier });
      const application = table.application(caller.applicationId);
      const applicationPolicy = application ? table.policy(application.policy) : undefined;
      if (applicationPolicy) limits.push({ key: bucketKey(application!, 'app', application!.id), policy: applicationPolicy });
    }
    const rate = this.options.rateLimiter.take(limits);
    const rateHeaders = rateLimitHeaders(rate);
    if (!rate.allowed) {
      return refuse(429, 'RATE_LIMITED', 'too many requests: retry after the time in Retry-After', {
        ...rateHeaders,
        'retry-after': String(rate.retryAfterSeconds),
      });
    }

    if (req.framing.kind === 'length' && req.framing.length > this.options.bodyLimitBytes) {
      return refuse(413, 'PAYLOAD_TOO_LARGE', `the request body exceeds ${this.options.bodyLimitBytes} bytes`);
    }
    const query = queryAt === -1 ? '' : url.slice(queryAt);
    return { api, rest, query, caller, rateHeaders };
  }

  /** Sends the request to an upstream (its body streamed, within the limit) and relays the response (see ResponseRelay). */
  private forward(req: ServerRequest, res: ServerResponse, admitted: Admitted, done: ProxiedRequest, requestId: string): void {
    const { api, rest, query, caller, rateHeaders } = admitted;
    const target = this.options.upstreams.next(api.id, api.upstreamUrls);
    const extra = ['x-request-id', requestId];
    for (const name in rateHeaders) extra.push(name, rateHeaders[name]);
    const protocol = upgradeWanted(req);
    if (protocol !== null) {
      // A WebSocket handshake (or another upgrade), admitted like any request: the connection becomes a tunnel if the upstream agrees.
      const count = this.options.tunnels;
      if (count.full) {
        const refusal = refuse(503, 'TOO_MANY_WEBSOCKETS', `this gateway holds its most open WebSockets (${count.max})`, {
          'retry-after': '1',
        });
        return this.refuse(res, refusal, requestId, { ...rateHeaders, ...refusal.headers });
      }
      new UpgradeTunnel(req, res, {
        pool: target.pool,
        path: target.basePath + rest + query,
        headers: upstreamHeaders(req, caller, requestId),
        protocol,
        timeoutMs: api.upstreamTimeoutMs,
        extraHeaders: extra,
        onFailure: (refusal) => this.refuse(res, refusal, requestId, rateHeaders),
        count,
      });
      return;
    }
    const relay = new ResponseRelay(res, extra, done, (error) => {
      if (!res.headersSent && !res.destroyed) this.refuse(res, upstreamRefusal(error, api.upstreamTimeoutMs), requestId, rateHeaders);
      else res.destroy();
    });
    const exchange = target.pool.request(
      {
        method: req.method,
        path: target.basePath + rest + query,
        headers: upstreamHeaders(req, caller, requestId),
        body: req.framing,
        timeoutMs: api.upstreamTimeoutMs,
      },
      relay,
    );
    relay.exchange = exchange;
    // A client that goes away takes its upstream request with it.
    res.onClose((finished) => {
      if (!finished) exchange.abort();
    });
    if (req.hasBody) this.streamBody(req, res, exchange, requestId);
  }

  /** The client's body to the upstream, with back-pressure both ways; a chunked body that passes the limit ends the exchange with 413. */
  private streamBody(req: ServerRequest, res: ServerResponse, exchange: Exchange, requestId: string): void {
    const limit = this.options.bodyLimitBytes;
    let bytes = 0;
    req.readBody({
      data: (chunk) => {
        const before = bytes;
        bytes += chunk.length;
        if (bytes > limit) {
          if (before <= limit) {
            exchange.abort();
            this.refuse(res, refuse(413, 'PAYLOAD_TOO_LARGE', `the request body exceeds ${limit} bytes`), requestId);
          }
          return;
        }
        if (!exchange.write(chunk)) {
          req.pause();
          exchange.onDrain(() => req.resume());
        }
      },
      end: () => exchange.end(),
    });
  }

  private refuse(res: ServerResponse, refusal: GatewayRefusal, requestId: string, headers?: Record<string, string>): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendRefusal(res, refusal, { ...headers, 'x-request-id': requestId });
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

function upstreamRefusal(error: UpstreamError, timeoutMs: number): GatewayRefusal {
  switch (error.kind) {
    case 'timeout':
      return refuse(504, 'UPSTREAM_TIMEOUT', `the upstream did not answer within ${timeoutMs} ms`);
    case 'connect-timeout':
      return refuse(502, 'UPSTREAM_ERROR', 'the upstream could not be reached (connect timeout)');
    case 'protocol':
      return refuse(502, 'UPSTREAM_ERROR', 'the upstream sent a response that is not valid HTTP/1.1');
    default:
      return refuse(502, 'UPSTREAM_ERROR', `the upstream could not be reached${error.code ? ` (${error.code})` : ''}`);
  }
}

/** Request headers only the gateway sets: a client's own values are dropped, not passed on. */
const SET_HERE = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'x-apim-application-id']);

/** The client's headers minus hop-by-hop ones and the credential the gateway consumed, plus X-Forwarded-* and x-request-id. */
function upstreamHeaders(req: ServerRequest, caller: Caller, requestId: string): string[] {
  const out: string[] = [];
  const connectionListed = listedInConnection(req.headers.get('connection'));
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || ANSWERED_HERE.has(name) || SET_HERE.has(name) || name === caller.credentialHeader) continue;
    if (connectionListed?.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  const forwardedFor = req.headers.get('x-forwarded-for');
  out.push(
    'x-forwarded-for',
    forwardedFor ? `${forwardedFor}, ${req.remoteAddress}` : req.remoteAddress,
    'x-forwarded-proto',
    req.secure ? 'https' : 'http',
  );
  const host = req.headers.get('host');
  if (host) out.push('x-forwarded-host', host);
  out.push('x-request-id', requestId);
  if (caller.applicationId) out.push('x-apim-application-id', caller.applicationId);
  return out;
}

/** Upstream responses up to this size are sent to the client in one write, as nginx's proxy buffering does. */
const BUFFER_BYTES = 64 * 1024;

/**
 * Relays an upstream's response to the client. A response up to
 * BUFFER_BYTES is collected and sent with its head in one write (one
 * system call, where streaming took one per part); a bigger one, or one that
 * declares a bigger length, is streamed as it comes, with back-pressure.
 */
class ResponseRelay implements ExchangeHandler {
  exchange?: Exchange;
  private status = 0;
  private headers: string[] = [];
  private chunks: Buffer[] = [];
  private bytes = 0;
  private streaming = false;

  constructor(
    private readonly res: ServerResponse,
    /** The gateway's own response headers, as name, value pairs. */
    private readonly extraHeaders: readonly string[],
    private readonly done: ProxiedRequest,
    private readonly onFailure: (error: UpstreamError) => void,
  ) {}

  onHead(head: ResponseHead): void {
    this.status = head.status;
    this.headers = responseHeaders(head, this.extraHeaders);
    const length = head.fields.get('content-length');
    if (length !== undefined) {
      this.done.responseBytes = Number(length);
      // Kept for a streamed response and a HEAD answer; a buffered one gets the length it measured.
      if (this.done.method === 'HEAD' || Number(length) > BUFFER_BYTES) this.headers.push('content-length', length);
      if (Number(length) > BUFFER_BYTES) this.startStreaming();
    }
  }

  onData(chunk: Buffer): void {
    if (!this.streaming) {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      if (this.bytes > BUFFER_BYTES) this.startStreaming();
      return;
    }
    this.write(chunk);
  }

  onEnd(): void {
    if (this.streaming) {
      this.res.end();
      return;
    }
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    if (this.done.method !== 'HEAD') this.done.responseBytes = body.length;
    this.res.send(this.status, this.headers, body);
  }

  onError(error: UpstreamError): void {
    this.onFailure(error);
  }

  private startStreaming(): void {
    this.streaming = true;
    this.res.writeHead(this.status, this.headers);
    const chunks = this.chunks;
    this.chunks = [];
    for (const chunk of chunks) this.write(chunk);
  }

  private write(chunk: Buffer): void {
    if (this.res.write(chunk) || !this.exchange) return;
    const exchange = this.exchange;
    exchange.pause();
    this.res.onDrain(() => exchange.resume());
  }
}
