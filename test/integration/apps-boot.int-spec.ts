import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../tools/infra/free-port';
import { repoRoot } from '../../tools/infra/repo-root';
import { testBrokers } from '../support/test-env';
import { TestDatabase } from '../support/databases';
import { TEST_SECRET_KEY } from '../support/apps';
import { httpsGet, selfSignedCertificate } from '../support/tls';

/** The compiled apps (npm test builds them first), started as real processes. */
const APPS = {
  'control-plane': 'dist/apps/control-plane/src/main.js',
  'gateway-worker': 'dist/apps/gateway-worker/src/main.js',
  replicator: 'dist/apps/replicator/src/main.js',
} as const;

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

function startApp(app: keyof typeof APPS, env: Record<string, string>) {
  const child = spawn(process.execPath, [join(repoRoot(), APPS[app])], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stderr, stdout })));
  return { child, exited, output: () => stdout };
}

async function waitForHealth(port: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return (await response.json()) as Record<string, unknown>;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('each app', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await TestDatabase.create('boot');
  });
  afterAll(async () => {
    await db.drop();
  });

  async function baseEnv(app: keyof typeof APPS): Promise<Record<string, string>> {
    const common = { DC_ID: 'dc1', KAFKA_BROKERS: testBrokers('dc1').join(','), PORT: String(await freePort()) };
    if (app === 'control-plane') return { ...common, DATABASE_URL: db.url, PEER_DCS: 'dc2', APIM_SECRET_KEY: TEST_SECRET_KEY };
    if (app === 'replicator') return { ...common, PEER_DCS: 'dc2', PEER_KAFKA_BROKERS: `dc2=${testBrokers('dc2').join(',')}` };
    return common;
  }

  it.each(Object.keys(APPS) as (keyof typeof APPS)[])('%s boots, answers /healthz and logs JSON lines', async (app) => {
    const env = await baseEnv(app);
    const run = startApp(app, env);
    try {
      const health = await waitForHealth(Number(env.PORT));
      expect(health).toMatchObject({ status: 'ok', service: app, dc: 'dc1' });
      const lines = run.output().trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ service: app, dc: 'dc1' });
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  });

  it.each(Object.keys(APPS) as (keyof typeof APPS)[])('%s also serves HTTPS on TLS_PORT when given a certificate', async (app) => {
    const dir = mkdtempSync(join(tmpdir(), 'apim-boot-tls-'));
    const pair = selfSignedCertificate(dir, app);
    const tlsPort = await freePort();
    const env: Record<string, string> = {
      ...(await baseEnv(app)),
      TLS_PORT: String(tlsPort),
      TLS_CERT_FILE: pair.certFile,
      TLS_KEY_FILE: pair.keyFile,
    };
    const run = startApp(app, env);
    try {
      await waitForHealth(Number(env.PORT));
      expect(await httpsGet(tlsPort, '/healthz', { ca: pair.cert })).toMatchObject({
        status: 200,
        body: { status: 'ok', service: app },
        peer: app,
      });
      expect(run.output()).toMatch(new RegExp(`"msg":"listening".*"tlsPort":${tlsPort}`));
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(Object.keys(APPS) as (keyof typeof APPS)[])('%s refuses to start without DC_ID, naming it, with exit code 78', async (app) => {
    const env = await baseEnv(app);
    delete env.DC_ID;
    const result = await startApp(app, env).exited;
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/DC_ID: is required/);
  });

  it('control-plane names a malformed variable without echoing its value', async () => {
    const env = { ...(await baseEnv('control-plane')), DATABASE_URL: 'mysql://user:s3cret@db/x', KAFKA_BROKERS: 'not a broker' };
    const result = await startApp('control-plane', env).exited;
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(result.stderr).toMatch(/KAFKA_BROKERS: must be a comma-separated list of host:port/);
    expect(result.stderr).not.toContain('s3cret');
  });
});
