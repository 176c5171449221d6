import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** The upstream port of the local stack (DESIGN.md section 10 names no port: 7070 sits apart from the DCs' ports). */
export const DEFAULT_UPSTREAM_PORT = 7070;

/** Bodies beyond this are counted, not echoed: the echo is for reading, not for load. */
const ECHOED_BODY_BYTES = 64 * 1024;

export interface SampleUpstream {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The stack's sample backend: answers every request with 200 and a JSON echo
 * of what it received (method, path and query, headers, body), so that a
 * newcomer sees what the gateway forwards (and what it strips). It runs in the
 * stack's own process: it lives and dies with it.
 */
export function startSampleUpstream(port = DEFAULT_UPSTREAM_PORT): Promise<SampleUpstream> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      if (bytes < ECHOED_BODY_BYTES) chunks.push(chunk);
      bytes += chunk.length;
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).subarray(0, ECHOED_BODY_BYTES).toString('utf8');
      const echo = { upstream: 'sample-upstream', method: req.method, url: req.url, headers: req.headers, body, bodyBytes: bytes };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(echo)}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${bound}`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
