import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../tools/infra/free-port';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { repoRoot } from '../../tools/infra/repo-root';
import { startAppProcess } from './apps';

/** A gateway-worker process of the compiled app, on a port of its own. */
export interface RunningGateway {
  process: GuardedProcess;
  port: number;
  url: string;
  logFile: string;
}

export async function startGateway(env: Record<string, string>, name: string): Promise<RunningGateway> {
  const port = await freePort();
  const dir = join(repoRoot(), '.run', 'test');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `gateway-${name}-${port}.log`);
  const process = startAppProcess('gateway-worker', { DC_ID: 'dc1', PORT: String(port), LOG_LEVEL: 'info', ...env }, logFile);
  return { process, port, url: `http://127.0.0.1:${port}`, logFile };
}

/** What the test upstream saw of a request, echoed back as JSON. */
export interface Echo {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
}

/** The body `/bytes/<n>` answers: n bytes of a repeating pattern. */
export function patternBytes(n: number): Buffer {
  return Buffer.alloc(n, '0123456789abcdefghijklmnopqrstuvwxyz');
}

/**
 * A real upstream: echoes every request as JSON, except `/slow/...`, which
 * answers after `slowMs`, `/bytes/<n>`, which streams n bytes chunked (no
 * length), and `/no-content`, which answers 204.
 */
export async function startUpstream(slowMs = 3000): Promise<{ server: Server; url: string; received: Echo[]; close: () => Promise<void> }> {
  const received: Echo[] = [];
  const server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes };
      received.push(echo);
      const answer = () => {
        const body = JSON.stringify(echo);
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-upstream': 'yes',
          connection: 'keep-alive, x-secret-hop',
          'x-secret-hop': 'drop me',
        });
        res.end(body);
      };
      const bytes = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
      if (bytes) {
        const body = patternBytes(Number(bytes[1]));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let at = 0; at < body.length; at += 16 * 1024) res.write(body.subarray(at, at + 16 * 1024));
        res.end();
      } else if (req.url === '/no-content') {
        res.writeHead(204, { 'x-upstream': 'yes' });
        res.end();
      } else if (req.url?.startsWith('/slow')) setTimeout(answer, slowMs).unref();
      else answer();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends bytes as they are (fetch would normalise paths and headers) and returns the status and body of the answer. */
export function rawRequest(port: number, request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(10_000, () =>
      socket.destroy(new Error(`no complete answer to ${request.split('\r\n')[0]}; got ${JSON.stringify(data)}`)),
    );
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const headerEnd = data.indexOf('\r\n\r\n');
      const length = /content-length: *(\d+)/i.exec(data.slice(0, headerEnd));
      if (headerEnd === -1) return;
      const complete = length ? data.length >= headerEnd + 4 + Number(length[1]) : data.endsWith('\r\n0\r\n\r\n');
      if (complete) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.write(request);
  });
}

export { eventually } from '../../tools/infra/eventually';
