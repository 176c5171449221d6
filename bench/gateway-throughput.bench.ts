/**
 * Gateway throughput and latency against references measured in the same run:
 * one upstream (nginx returning a small JSON body) reached directly, through
 * nginx as a reverse proxy (one worker process, keep-alive to the upstream),
 * through two bare Node.js proxies that do nothing else (one on node:http and
 * undici, one on the gateway's own HTTP/1.1 stack: the ceilings of the
 * runtime and of the stack on this machine), and through the gateway (one
 * process; API-key auth, rate limiting, metrics and usage records on); then
 * nginx and the gateway again with HTTPS from the client (both terminate TLS
 * and proxy to the same plain upstream). Load from wrk, the same for each. The targets take turns, round after round, and
 * each figure is the median of its rounds: on a shared machine a slow spell
 * then hits every target alike instead of whichever ran during it (nginx alone
 * varied from 30,000 to 47,000 req/s between runs here). The gateway/nginx
 * ratio is the median of each round's ratio.
 * Usage: npm run bench:gateway-throughput [-- --duration 5 --rounds 3 --connections 50]
 * Needs nginx and wrk (Debian: apt-get install nginx wrk). Uses
 * KAFKA_BROKERS_DC1, or starts its own Kafka.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEvent, EventEnvelope, EventType, newEnvelope, sha256Hex, TOPICS } from '@apim/events';
import { freePort } from '../tools/infra/free-port';
import { GuardedProcess } from '../tools/infra/guarded-process';
import { repoRoot } from '../tools/infra/repo-root';
import { selfSignedCertificate } from '../tools/infra/self-signed-certificate';
import { argument, benchGateway, benchKafka, printTable, progress, waitFor200 } from './support/bench-infra';

/** Seconds per target and round. */
const DURATION = Number(argument('--duration') ?? 5);
const ROUNDS = Number(argument('--rounds') ?? 3);
const CONNECTIONS = Number(argument('--connections') ?? 50);
const LATENCY_SECONDS = 5;

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU of the processes under test per request (all their threads), in microseconds; NaN when not measured. */
  cpuUsPerRequest: number;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU seconds used so far by the live processes of process group `pgid`
 * (every GuardedProcess leads its own: the guard, the app, all their
 * threads), from /proc. Less sensitive to a busy machine than req/s.
 */
function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // After "pid (comm) ": state, ppid, pgrp, ..., utime (14th field) and stime (15th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

function requireTool(tool: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is not installed: apt-get install -y nginx wrk (Debian), then run this benchmark again`);
  }
}

function nginx(dir: string, name: string, server: string): GuardedProcess {
  const prefix = join(dir, name);
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  ${server}
}
`,
  );
  return new GuardedProcess('nginx', ['-p', prefix, '-c', conf], { logFile: join(prefix, 'logs', 'stdout.log') });
}

function wrk(
  url: string,
  headers: Record<string, string> = {},
  seconds = DURATION,
  connections = CONNECTIONS,
  measured?: number,
): WrkResult {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const cpuBefore = measured === undefined ? 0 : groupCpuSeconds(measured);
  const output = execFileSync('wrk', [...args, url], { encoding: 'utf8' });
  const cpuSeconds = measured === undefined ? NaN : groupCpuSeconds(measured) - cpuBefore;
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? NaN);
  const toMs = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit];
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    if (!match) throw new Error(`wrk printed no ${p}% latency:\n${output}`);
    return toMs(match[1], match[2]);
  };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)![1]),
    p50Ms: percentile('50'),
    p99Ms: percentile('99'),
    errors,
    cpuUsPerRequest: (cpuSeconds / requests) * 1e6,
  };
}

function envelope(type: EventType, streamId: string, version: number, payload: object): EventEnvelope {
  return newEnvelope(type, streamId, version, payload, { originDc: 'dc1', epoch: 1, actor: 'user:bench' });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The round with the median throughput (the lower middle one for an even count), whose latencies go with it. */
function medianRun(runs: WrkResult[]): WrkResult {
  return [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((runs.length - 1) / 2)];
}

async function main(): Promise<void> {
  requireTool('nginx');
  requireTool('wrk');
  const dir = mkdtempSync(join(tmpdir(), 'apim-bench-tp-'));
  const processes: GuardedProcess[] = [];
  const { kafka, brokers, stop } = await benchKafka(dir);
  try {
    const upstreamPort = await freePort();
    const proxyPort = await freePort();
    const bareProxyPort = await freePort();
    const bareStackPort = await freePort();
    const [proxyTlsPort, gatewayTlsPort] = [await freePort(), await freePort()];
    // HTTPS, terminated by nginx and by the gateway alike: a self-signed EC P-256 certificate (wrk does not verify it).
    const { certFile, keyFile } = selfSignedCertificate(dir, 'bench');
    const upstream = nginx(
      dir,
      'upstream',
      `server { listen 127.0.0.1:${upstreamPort}; location / { default_type application/json; return 200 '{"ok":true}'; } }`,
    );
    processes.push(upstream);
    const nginxProxy = nginx(
      dir,
      'proxy',
      `upstream app { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  server { listen 127.0.0.1:${proxyPort}; location /bench/v1/ { proxy_pass http://app/; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:${proxyTlsPort} ssl; ssl_certificate ${certFile}; ssl_certificate_key ${keyFile}; ssl_protocols TLSv1.2 TLSv1.3;
    location /bench/v1/ { proxy_pass http://app/; proxy_http_version 1.1; proxy_set_header Connection ""; } }`,
    );
    processes.push(nginxProxy);

    // An API with API-key auth, subscribed on a tier with a (never reached) rate limit: every check runs.
    const apiId = randomUUID();
    const applicationId = randomUUID();
    const key = `apim_${randomBytes(32).toString('base64url')}`;
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: TOPICS.events,
      acks: -1,
      messages: [
        envelope('policy.created', `policy:Bench${apiId}`, 1, {
          name: `Bench${apiId}`,
          requestsPerMinute: 1_000_000_000,
          burst: 0,
          unlimited: false,
        }),
        envelope('api.created', apiId, 1, {
          name: 'bench',
          version: 'v1',
          context: '/bench',
          upstreamUrls: [`http://127.0.0.1:${upstreamPort}`],
          upstreamTimeoutMs: 5000,
          operations: [{ method: '*', path: '/*', auth: 'apikey' }],
          tiers: [`Bench${apiId}`],
          visibility: 'public',
        }),
        envelope('api.published', apiId, 2, {}),
        envelope('application.created', applicationId, 1, { ownerId: 'user:bench', name: 'bench', policy: `Bench${apiId}` }),
        envelope('subscription.created', `sub:${applicationId}:${apiId}`, 1, { applicationId, apiId, tier: `Bench${apiId}` }),
        envelope('apikey.generated', randomUUID(), 1, {
          applicationId,
          keyHash: sha256Hex(key),
          prefix: key.slice(0, 12),
          expiresAt: null,
        }),
      ].map(encodeEvent),
    });
    await producer.disconnect();

    const bareNodeProxy = new GuardedProcess(
      process.execPath,
      [join(repoRoot(), 'dist', 'bench', 'support', 'bare-node-proxy.js'), String(bareProxyPort), `http://127.0.0.1:${upstreamPort}`],
      { logFile: join(dir, 'bare-node-proxy.log') },
    );
    const bareStackProxy = new GuardedProcess(
      process.execPath,
      [join(repoRoot(), 'dist', 'bench', 'support', 'bare-stack-proxy.js'), String(bareStackPort), `http://127.0.0.1:${upstreamPort}`],
      { logFile: join(dir, 'bare-stack-proxy.log') },
    );
    processes.push(bareNodeProxy, bareStackProxy);
    const gateway = await benchGateway({
      KAFKA_BROKERS: brokers,
      TLS_PORT: String(gatewayTlsPort),
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
    });
    processes.push(gateway.process);
    await waitFor200(`${gateway.url}/readyz`);
    await waitFor200(`http://127.0.0.1:${upstreamPort}/`);
    await waitFor200(`http://127.0.0.1:${proxyPort}/bench/v1/`);
    await waitFor200(`http://127.0.0.1:${bareProxyPort}/`);
    await waitFor200(`http://127.0.0.1:${bareStackPort}/`);
    const gatewayUrl = `${gateway.url}/bench/v1/items`;
    const probe = await fetch(gatewayUrl, { headers: { apikey: key } });
    if (probe.status !== 200) throw new Error(`the gateway answered ${probe.status} to the benchmark request: ${await probe.text()}`);

    progress(
      `gateway throughput benchmark: wrk, 1 thread, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} s per target, on ${process.env.HOSTNAME ?? 'this machine'}`,
    );
    // Each target with the process group whose CPU it costs (for the upstream alone: the upstream).
    const targets: [string, string, Record<string, string>, number | undefined][] = [
      ['upstream direct', `http://127.0.0.1:${upstreamPort}/items`, {}, upstream.pid],
      ['nginx (1 worker, keep-alive)', `http://127.0.0.1:${proxyPort}/bench/v1/items`, {}, nginxProxy.pid],
      ['bare Node proxy (http + undici)', `http://127.0.0.1:${bareProxyPort}/items`, {}, bareNodeProxy.pid],
      ["bare proxy, gateway's HTTP stack", `http://127.0.0.1:${bareStackPort}/items`, {}, bareStackProxy.pid],
      ['gateway (apikey, rate limit, metrics)', gatewayUrl, { apikey: key }, gateway.process.pid],
      ['nginx, HTTPS from the client', `https://127.0.0.1:${proxyTlsPort}/bench/v1/items`, {}, nginxProxy.pid],
      ['gateway, HTTPS from the client', `https://127.0.0.1:${gatewayTlsPort}/bench/v1/items`, { apikey: key }, gateway.process.pid],
    ];
    const [direct, proxy, bare, stack, ours, proxyTls, oursTls] = targets.map(([name]) => name);
    const rounds = new Map<string, WrkResult[]>(targets.map(([name]) => [name, []]));
    for (const [name, url, headers] of targets) {
      progress(`  ${name}: warm-up`);
      wrk(url, headers, 2);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`  round ${round} of ${ROUNDS}: ${DURATION} s per target at ${CONNECTIONS} connections...`);
      for (const [name, url, headers, pgid] of targets) rounds.get(name)!.push(wrk(url, headers, DURATION, CONNECTIONS, pgid));
    }
    // Latency without queueing: one connection, one request at a time. Under load (the first table) p50 is mostly waiting for the CPU.
    const unloaded = new Map<string, WrkResult>();
    for (const [name, url, headers] of targets) {
      progress(`  ${name}: ${LATENCY_SECONDS} s at 1 connection...`);
      unloaded.set(name, wrk(url, headers, LATENCY_SECONDS, 1));
    }
    const results = new Map([...rounds].map(([name, runs]) => [name, medianRun(runs)]));
    const ratio = (a: string, b: string) =>
      median(rounds.get(a)!.map((run, i) => run.requestsPerSecond / rounds.get(b)![i].requestsPerSecond));
    const cpu = (name: string) => median(rounds.get(name)!.map((run) => run.cpuUsPerRequest));
    printTable(
      ['target', 'req/s (median)', 'each round', 'p50 ms', 'p99 ms', 'errors', 'vs nginx', 'CPU us/req'],
      [...results].map(([name, r]) => [
        name,
        r.requestsPerSecond.toFixed(0),
        rounds
          .get(name)!
          .map((run) => run.requestsPerSecond.toFixed(0))
          .join(' '),
        r.p50Ms.toFixed(3),
        r.p99Ms.toFixed(3),
        rounds.get(name)!.reduce((sum, run) => sum + run.errors, 0),
        ratio(name, proxy).toFixed(2),
        cpu(name).toFixed(1),
      ]),
    );
    console.log(
      '(CPU us/req: CPU time of the target\'s processes, every thread, per request, median of the rounds; for "upstream direct" the upstream itself. ' +
        'It moves less than req/s when the machine is busy.)',
    );
    console.log(`\nlatency at 1 connection (no queueing), ${LATENCY_SECONDS} s each:`);
    const directAlone = unloaded.get(direct)!;
    printTable(
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'p50 over direct ms'],
      [...unloaded].map(([name, r]) => [
        name,
        r.requestsPerSecond.toFixed(0),
        r.p50Ms.toFixed(3),
        r.p99Ms.toFixed(3),
        (r.p50Ms - directAlone.p50Ms).toFixed(3),
      ]),
    );
    const perRound = rounds.get(ours)!.map((run, i) => (run.requestsPerSecond / rounds.get(proxy)![i].requestsPerSecond).toFixed(2));
    console.log(
      `\ngateway/nginx throughput: ${ratio(ours, proxy).toFixed(2)} (median of rounds ${perRound.join(', ')}; target >= 0.50); ` +
        `gateway p50 over direct: ${(unloaded.get(ours)!.p50Ms - directAlone.p50Ms).toFixed(3)} ms at 1 connection (target < 1 ms), ` +
        `${(results.get(ours)!.p50Ms - results.get(direct)!.p50Ms).toFixed(3)} ms at ${CONNECTIONS}; ` +
        `bare proxy on the gateway's stack/nginx: ${ratio(stack, proxy).toFixed(2)}, ` +
        `on node:http + undici/nginx: ${ratio(bare, proxy).toFixed(2)}; ` +
        `gateway/bare proxy on its stack: ${ratio(ours, stack).toFixed(2)}; ` +
        `CPU per request: gateway ${cpu(ours).toFixed(1)} us, nginx ${cpu(proxy).toFixed(1)} us (${(cpu(proxy) / cpu(ours)).toFixed(2)} of the gateway's)`,
    );
    console.log(
      `HTTPS from the client (keep-alive: encryption, not handshakes): gateway/nginx ${ratio(oursTls, proxyTls).toFixed(2)}; ` +
        `HTTPS/HTTP throughput: gateway ${ratio(oursTls, ours).toFixed(2)}, nginx ${ratio(proxyTls, proxy).toFixed(2)}; ` +
        `CPU per request over HTTPS: gateway ${cpu(oursTls).toFixed(1)} us, nginx ${cpu(proxyTls).toFixed(1)} us`,
    );
  } finally {
    for (const child of processes.reverse()) await child.stop(10_000);
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
