/**
 * The least a Node.js reverse proxy does, as a yardstick for the gateway in
 * `bench/gateway-throughput.bench.ts`: node:http in front, an undici pool of
 * keep-alive connections behind (its dispatch API, the fastest it has), the
 * response read whole and sent in one write; no routing, authentication,
 * rate limit, metrics or usage records. What it reaches is the ceiling of the
 * gateway's runtime on the machine, measured in the same run.
 * Usage: node dist/bench/support/bare-node-proxy.js <port> <upstream origin>
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [port, origin] = process.argv.slice(2);
if (!port || !origin) {
  console.error('usage: bare-node-proxy <port> <upstream origin>');
  process.exit(2);
}
const pool = new Pool(origin, { connections: 256 });
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  let status = 502;
  let contentType = 'application/octet-stream';
  pool.dispatch(
    { path: req.url ?? '/', method: req.method as 'GET', headers: { host: 'upstream' } },
    {
      // undici takes a handler with onRequestStart for one of its current (not deprecated) API.
      onRequestStart: () => undefined,
      onResponseStart: (_controller, statusCode, headers) => {
        status = statusCode;
        contentType = String(headers['content-type'] ?? contentType);
      },
      onResponseData: (_controller, chunk) => void chunks.push(chunk),
      onResponseEnd: () => {
        const body = Buffer.concat(chunks);
        res.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
        res.end(body);
      },
      onResponseError: () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    },
  );
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => void pool.close().then(() => process.exit(0))));
