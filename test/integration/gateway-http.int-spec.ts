import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, Server as HttpNodeServer } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo, connect, createServer as createNetServer, Server as NetServer, Socket } from 'node:net';
import type { ResponseHead } from '../../apps/gateway-worker/src/http/http1';
import { HttpServer, ServerRequest, ServerResponse } from '../../apps/gateway-worker/src/http/http-server';
import { Exchange, UpstreamError, UpstreamPool, UpstreamRequest } from '../../apps/gateway-worker/src/http/upstream-pool';
import { socketsKind } from '../../apps/gateway-worker/src/http/wire';
import { freePort } from '../../tools/infra/free-port';
import { selfSignedCertificate } from '../support/tls';

/**
 * The gateway's own HTTP/1.1 stack over real sockets: its server against raw
 * client bytes, its upstream pool against a node:http server and against raw
 * upstream bytes. (The gateway's behaviour on top of it is
 * gateway.int-spec.ts.)
 */

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One exchange through `pool`, its response body collected; `send` writes the request body, if any. */
function exchange(
  pool: UpstreamPool,
  request: Partial<UpstreamRequest> & { body?: UpstreamRequest['body'] },
  send?: (upload: Exchange) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let head: ResponseHead | undefined;
    const chunks: Buffer[] = [];
    const started = pool.request(
      { method: 'GET', path: '/', headers: [], body: { kind: 'none' }, timeoutMs: 2000, ...request },
      {
        onHead: (h) => (head = h),
        onData: (chunk) => chunks.push(Buffer.from(chunk)),
        onEnd: () =>
          resolve({ status: head!.status, headers: Object.fromEntries(head!.fields), body: Buffer.concat(chunks).toString('latin1') }),
        onError: reject,
      },
    );
    send?.(started);
  });
}

/** A request body sent whole. */
function whole(body: string): (upload: Exchange) => void {
  return (upload) => {
    upload.write(Buffer.from(body));
    upload.end();
  };
}

/** Writes `bytes` to the server and collects what comes back until it closes the connection (or `untilText` appears). */
function talk(port: number, bytes: string | string[], untilText?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer; got ${JSON.stringify(data)}`)));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (untilText && data.includes(untilText)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(data));
    for (const part of Array.isArray(bytes) ? bytes : [bytes]) socket.write(part, 'latin1');
  });
}

/** The sum of a body's bytes modulo 65521: enough to tell a lost, doubled or reordered part. */
function checksum(bytes: Buffer, sum = 0): number {
  for (const byte of bytes) sum = (sum + byte) % 65521;
  return sum;
}

/** Counts and checksums a body as it arrives, pausing its source for a moment after every MiB: a slow reader. */
function slowReader(source: { pause(): unknown; resume(): unknown }): {
  data(chunk: Buffer): void;
  result(): { bytes: number; sum: number };
} {
  let bytes = 0;
  let sum = 0;
  return {
    data(chunk) {
      const before = bytes;
      bytes += chunk.length;
      sum = checksum(chunk, sum);
      if (Math.floor(before / 2 ** 20) !== Math.floor(bytes / 2 ** 20)) {
        source.pause();
        setTimeout(() => source.resume(), 5);
      }
    },
    result: () => ({ bytes, sum }),
  };
}

function statuses(wire: string): number[] {
  return [...wire.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

// Every test below runs on both kinds of sockets under the stack (wire.ts): libuv's handles directly, and node:net.
describe.each(['raw', 'node'] as const)('on %s sockets', (sockets) => {
  it(sockets === 'raw' ? 'uses raw sockets: this Node.js has the bindings they need' : 'uses node:net sockets when asked', () => {
    // Raw falling back to node would run the "raw" tests on node:net; a Node.js upgrade that changes the bindings must show here.
    expect(socketsKind(sockets)).toBe(sockets);
  });

  describe("the gateway's HTTP/1.1 upstream pool", () => {
    let upstream: HttpNodeServer;
    let origin: URL;
    let connections = 0;
    const pools: UpstreamPool[] = [];
    const pool = (connectionsMax = 8, keepAliveTimeoutMs = 30_000) => {
      const created = new UpstreamPool(origin, { connections: connectionsMax, keepAliveTimeoutMs, connectTimeoutMs: 1000, sockets });
      pools.push(created);
      return created;
    };

    beforeAll(async () => {
      upstream = createHttpServer((req, res) => {
        if (req.url === '/count') {
          // Reads slowly (paused every 1 MiB for a moment): the sender must wait rather than buffer the whole body.
          const reader = slowReader(req);
          req.on('data', (chunk: Buffer) => reader.data(chunk));
          req.on('end', () => res.end(JSON.stringify(reader.result())));
          return;
        }
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          if (req.url === '/slow') setTimeout(() => res.end('late'), 1500).unref();
          else if (req.url === '/chunked') {
            res.write('ab');
            res.end('cd');
          } else
            res.end(
              JSON.stringify({
                method: req.method,
                url: req.url,
                host: req.headers.host,
                te: req.headers['transfer-encoding'] ?? null,
                body,
              }),
            );
        });
      });
      upstream.keepAliveTimeout = 200;
      upstream.on('connection', () => connections++);
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      origin = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    });

    afterAll(async () => {
      await Promise.all(pools.map((p) => p.close()));
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    });

    it('keeps a connection alive across requests, and opens no more than its limit under concurrency', async () => {
      const p = pool(3);
      const before = connections;
      for (let i = 0; i < 20; i++) expect((await exchange(p, { path: `/seq/${i}` })).status).toBe(200);
      expect(connections - before).toBe(1);
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => exchange(p, { path: `/par/${i}` })));
      expect(answers.map((a) => JSON.parse(a.body).url)).toEqual(Array.from({ length: 30 }, (_, i) => `/par/${i}`));
      expect(connections - before).toBeLessThanOrEqual(3);
    });

    it('sends bodies by length and chunked, and reads a chunked response', async () => {
      const p = pool();
      const byLength = JSON.parse((await exchange(p, { method: 'POST', body: { kind: 'length', length: 5 } }, whole('hello'))).body);
      expect(byLength).toMatchObject({ method: 'POST', body: 'hello', te: null, host: origin.host });
      const chunked = JSON.parse((await exchange(p, { method: 'PUT', body: { kind: 'chunked' } }, whole('streamed'))).body);
      expect(chunked).toMatchObject({ method: 'PUT', body: 'streamed', te: 'chunked' });
      expect((await exchange(p, { path: '/chunked' })).body).toBe('abcd');
    });

    it('streams a 16 MiB chunked request body to a slow upstream, waiting on it rather than buffering', async () => {
      const p = pool();
      const chunk = Buffer.alloc(64 * 1024, 'abcdefgh');
      const total = 256;
      const expectedSum = (checksum(chunk) * total) % 65521;
      let waits = 0;
      const result = await exchange(p, { method: 'POST', path: '/count', body: { kind: 'chunked' }, timeoutMs: 10_000 }, (upload) => {
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent++;
            if (!upload.write(chunk)) {
              waits++;
              upload.onDrain(pump);
              return;
            }
          }
          upload.end();
        };
        pump();
      });
      expect(JSON.parse(result.body)).toEqual({ bytes: total * chunk.length, sum: expectedSum });
      expect(waits).toBeGreaterThan(0);
    });

    it('lets a slow upload that keeps moving take longer than the timeout, which counts from its last byte', async () => {
      const p = pool();
      const answer = await exchange(p, { method: 'POST', path: '/count', body: { kind: 'chunked' }, timeoutMs: 300 }, (upload) => {
        // Ten parts 100 ms apart: a second in all, more than three times the timeout.
        let sent = 0;
        const timer = setInterval(() => {
          upload.write(Buffer.from('0123456789'));
          if (++sent === 10) {
            clearInterval(timer);
            upload.end();
          }
        }, 100);
      });
      expect(JSON.parse(answer.body)).toMatchObject({ bytes: 100 });
    });

    it('survives the upstream closing idle connections (its keep-alive timeout is shorter than ours)', async () => {
      const p = pool(1);
      for (let i = 0; i < 3; i++) {
        expect((await exchange(p, { path: `/idle/${i}` })).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    });

    it('fails with timeout when the head is late, and with connect when nothing listens', async () => {
      const p = pool();
      await expect(exchange(p, { path: '/slow', timeoutMs: 300 })).rejects.toMatchObject({ kind: 'timeout' });
      expect((await exchange(p, { path: '/after-timeout' })).status).toBe(200);
      const nowhere = new UpstreamPool(new URL(`http://127.0.0.1:${await freePort()}`), {
        connections: 2,
        keepAliveTimeoutMs: 1000,
        connectTimeoutMs: 1000,
        sockets,
      });
      pools.push(nowhere);
      const refused = await exchange(nowhere, {}).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(UpstreamError);
      expect(refused).toMatchObject({ kind: 'connect', code: 'ECONNREFUSED' });
    });
  });

  describe("the gateway's HTTP/1.1 upstream pool against raw upstream bytes", () => {
    let server: NetServer;
    let answer: (request: string, socket: Socket) => void;
    let origin: URL;
    let pool: UpstreamPool;

    beforeAll(async () => {
      server = createNetServer((socket) => {
        let data = '';
        socket.on('data', (chunk) => {
          data += chunk.toString('latin1');
          if (data.includes('\r\n\r\n')) {
            answer(data, socket);
            data = '';
          }
        });
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      pool = new UpstreamPool(origin, { connections: 4, keepAliveTimeoutMs: 30_000, connectTimeoutMs: 1000, sockets });
    });

    afterAll(async () => {
      await pool.close();
      await new Promise((resolve) => server.close(resolve));
    });

    it('skips interim responses and decodes chunk extensions and trailers', async () => {
      answer = (_request, socket) =>
        socket.write(
          'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n',
        );
      expect(await exchange(pool, {})).toMatchObject({ status: 200, body: 'abc' });
    });

    it('reads a close-delimited body to the end', async () => {
      answer = (_request, socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
      expect(await exchange(pool, {})).toMatchObject({ status: 200, body: 'until the end' });
    });

    it('refuses an invalid response as a protocol error, and a truncated one as a reset', async () => {
      answer = (_request, socket) => socket.write('HTTP/1.1 2xx Nope\r\n\r\n');
      await expect(exchange(pool, {})).rejects.toMatchObject({ kind: 'protocol' });
      answer = (_request, socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
      await expect(exchange(pool, {})).rejects.toMatchObject({ kind: 'reset' });
    });
  });

  describe("the gateway's HTTP/1.1 server", () => {
    let server: HttpServer;
    const seen: Array<{ method: string; url: string; body: string }> = [];
    const handlerErrors: string[] = [];

    beforeAll(async () => {
      server = new HttpServer(
        (req: ServerRequest, res: ServerResponse) => {
          if (req.url === '/throw') throw new Error('a bug in the handler');
          if (req.url === '/peer') {
            res.send(200, {}, req.remoteAddress);
            return;
          }
          if (req.url === '/refuse') {
            res.send(403, { 'content-type': 'text/plain' }, 'no');
            return;
          }
          if (req.url === '/slow-reader') {
            // Takes the body in pauses: the client must be held back, and every byte must still arrive, in order.
            const reader = slowReader(req);
            req.readBody({ data: (chunk) => reader.data(chunk), end: () => res.send(200, {}, JSON.stringify(reader.result())) });
            return;
          }
          if (req.url === '/stream') {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.write(Buffer.from('one,'));
            res.write(Buffer.from('two'));
            res.end();
            return;
          }
          const chunks: Buffer[] = [];
          req.readBody({
            data: (chunk) => chunks.push(Buffer.from(chunk)),
            end: () => {
              const body = Buffer.concat(chunks).toString();
              seen.push({ method: req.method, url: req.url, body });
              res.send(200, { 'content-type': 'text/plain' }, `${req.method} ${req.url} ${body}`);
            },
          });
        },
        { headersTimeoutMs: 1000, keepAliveTimeoutMs: 30_000, onHandlerError: (error) => handlerErrors.push(error.message), sockets },
      );
      await server.listen(0, '127.0.0.1');
    });

    afterAll(async () => {
      server.destroyAll();
      await server.close();
    });

    it('answers pipelined requests in order on one connection, with their bodies', async () => {
      const wire = await talk(
        server.port,
        'GET /a HTTP/1.1\r\nhost: x\r\n\r\nPOST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nxyzPOST /c HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\nGET /d HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
      );
      expect(statuses(wire)).toEqual([200, 200, 200, 200]);
      const bodies = [...wire.matchAll(/\r\n\r\n([A-Z]+ \/[a-d] [a-z]*)/g)].map((m) => m[1]);
      expect(bodies).toEqual(['GET /a ', 'POST /b xyz', 'POST /c hi', 'GET /d ']);
      expect(wire).toMatch(/connection: close/);
    });

    it("knows the client's address", async () => {
      expect(await talk(server.port, 'GET /peer HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).toMatch(/\r\n\r\n127\.0\.0\.1$/);
    });

    it('delivers a refusal whole to a client that goes on sending its body (the close lingers rather than resetting)', async () => {
      const socket = connect(server.port, '127.0.0.1');
      let answer = '';
      let reset: Error | null = null;
      socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
      socket.on('error', (error) => (reset = error));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      await new Promise((resolve) => socket.once('connect', resolve));
      // The answer is read only after the server closed: a reset would have thrown it away unread.
      socket.pause();
      socket.write('POST /refuse HTTP/1.1\r\nhost: x\r\ncontent-length: 4000000\r\n\r\n');
      // The body keeps coming after the 403 went out: unread bytes at close would make the server's kernel send a reset.
      for (let i = 0; i < 20 && !socket.destroyed; i++) {
        socket.write(Buffer.alloc(64 * 1024, 0x61));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.resume();
      socket.end();
      await closed;
      expect(reset).toBeNull();
      expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*connection: close\r\n/);
      expect(answer.endsWith('\r\n\r\nno')).toBe(true);
    });

    it('streams a response chunked, and closes after an HTTP/1.0 request unless asked to keep it', async () => {
      const streamed = await talk(server.port, 'GET /stream HTTP/1.1\r\nhost: x\r\n\r\n', '0\r\n\r\n');
      expect(streamed).toMatch(/transfer-encoding: chunked\r\n/);
      expect(streamed.endsWith('4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n')).toBe(true);
      expect(await talk(server.port, 'GET /old HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*connection: close\r\n/);
      const kept = await talk(server.port, 'GET /old HTTP/1.0\r\nconnection: keep-alive\r\n\r\n', 'GET /old');
      expect(kept).toMatch(/connection: keep-alive\r\n/);
    });

    it('answers Expect: 100-continue when the handler reads the body, and closes after a refusal that left a body unread', async () => {
      const continued = await talk(
        server.port,
        ['POST /up HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n'],
        'HTTP/1.1 100',
      );
      expect(continued).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      const refused = await talk(
        server.port,
        'POST /refuse HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nhost: x\r\n\r\n',
      );
      expect(statuses(refused)).toEqual([403]);
      expect(refused).toMatch(/connection: close\r\n/);
    });

    it('refuses unreadable requests with a JSON 400 (or 431) and closes the connection', async () => {
      for (const bad of [
        'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
        'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n',
        'GET / HTTP/1.1\nhost: x\r\n\r\n',
        'GET / HTTP/1.1\r\nhost : x\r\n\r\n',
        'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
        'GET / HTTP/1.1\r\n\r\n',
        'GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n',
      ]) {
        const wire = await talk(server.port, bad);
        expect({ bad, status: statuses(wire)[0] }).toEqual({ bad, status: 400 });
        expect(JSON.parse(wire.slice(wire.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'BAD_REQUEST' });
      }
      const huge = await talk(server.port, `GET / HTTP/1.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(statuses(huge)).toEqual([431]);
    });

    it('takes a 16 MiB upload from a client while its handler reads slowly', async () => {
      const body = Buffer.alloc(16 * 2 ** 20, 'xyz');
      const sum = checksum(body);
      const response = await fetch(`http://127.0.0.1:${server.port}/slow-reader`, { method: 'POST', body });
      expect(await response.json()).toEqual({ bytes: body.length, sum });
    });

    it('answers 500 when the handler throws, reports the error, and goes on serving', async () => {
      const wire = await talk(
        server.port,
        'GET /throw HTTP/1.1\r\nhost: x\r\n\r\nGET /fine HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
      );
      expect(statuses(wire)).toEqual([500, 200]);
      expect(wire).toMatch(/"error":"INTERNAL"/);
      expect(handlerErrors).toEqual(['a bug in the handler']);
    });

    it('closes a connection whose head does not arrive within the headers timeout', async () => {
      const started = Date.now();
      const wire = await talk(server.port, 'GET / HTTP/1.1\r\nhost: x\r\n');
      expect(wire).toBe('');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    });
  });
});

describe("the gateway's HTTP/1.1 upstream pool over TLS", () => {
  let dir: string;
  let upstream: HttpsServer;
  let origin: URL;
  let ca: Buffer;
  const pools: UpstreamPool[] = [];
  const pool = (trusted?: Buffer) => {
    const created = new UpstreamPool(origin, { connections: 2, keepAliveTimeoutMs: 30_000, connectTimeoutMs: 2000, ca: trusted });
    pools.push(created);
    return created;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apim-tls-'));
    const { key, cert } = selfSignedCertificate(dir, 'upstream');
    ca = cert;
    upstream = createHttpsServer({ key, cert }, (req, res) => res.end(`tls ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    origin = new URL(`https://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('talks to an https upstream whose certificate it trusts, and refuses one it does not', async () => {
    const trusting = pool(ca);
    expect(await exchange(trusting, { path: '/secure' })).toMatchObject({ status: 200, body: 'tls /secure' });
    expect(await exchange(trusting, { path: '/again' })).toMatchObject({ status: 200, body: 'tls /again' });
    const refused = await exchange(pool(), {}).catch((error: unknown) => error);
    expect(refused).toMatchObject({ kind: 'connect', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });
});
