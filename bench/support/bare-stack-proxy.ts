/**
 * The least a proxy on the gateway's own HTTP/1.1 stack does
 * (apps/gateway-worker/src/http: its server in front, its upstream pool
 * behind), as a yardstick for the gateway in
 * `bench/gateway-throughput.bench.ts`: the response collected and sent in one
 * write; no routing, authentication, rate limit, metrics or usage records.
 * The gap between this and the gateway is the gateway's own work; the gap
 * between this and bare-node-proxy is the stack.
 * Usage: node dist/bench/support/bare-stack-proxy.js <port> <upstream origin>
 */
import { HttpServer } from '../../apps/gateway-worker/src/http/http-server';
import { UpstreamPool } from '../../apps/gateway-worker/src/http/upstream-pool';

const [port, origin] = process.argv.slice(2);
if (!port || !origin) {
  console.error('usage: bare-stack-proxy <port> <upstream origin>');
  process.exit(2);
}
const pool = new UpstreamPool(new URL(origin), { connections: 256, keepAliveTimeoutMs: 30_000, connectTimeoutMs: 5000 });
const server = new HttpServer(
  (req, res) => {
    const chunks: Buffer[] = [];
    let status = 502;
    let contentType = 'application/octet-stream';
    pool.request(
      { method: req.method, path: req.url, headers: [], body: { kind: 'none' }, timeoutMs: 5000 },
      {
        onHead: (head) => {
          status = head.status;
          contentType = head.fields.get('content-type') ?? contentType;
        },
        onData: (chunk) => void chunks.push(chunk),
        onEnd: () => res.send(status, { 'content-type': contentType }, Buffer.concat(chunks)),
        onError: () => res.send(502, {}, ''),
      },
    );
  },
  { headersTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000 },
);
void server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => void server.close().then(() => pool.close().then(() => process.exit(0))));
