/**
 * The checks of tools/docker/rehearse.sh, run from the host against the
 * two-DC compose deployment through its published ports only (and `docker
 * exec` for what a container itself must show): every app answers /healthz and
 * /readyz; the apps run as a user that is not root; the demo seeded through
 * dc1's GraphQL becomes routable at both gateways (dc2's through the
 * replicators); a key revoked in dc1 is refused at both gateways; `apimctl
 * status`, run inside the image against the control planes' service names,
 * lists dc1 primary and dc2 standby; with dc1's containers killed, `apimctl
 * failover --to dc2` promotes dc2, which then takes writes that its gateway
 * serves; dc1 started again demotes itself to a standby in epoch 2 and its
 * gateway serves what dc2 wrote. Then dc1 is lost for good (containers and
 * volumes removed) and rebuilt: empty Kafka and PostgreSQL, `dc-restore.js`
 * run in the image from dc2, dc1's apps started; dc1 is a standby in epoch 2
 * again and its gateway serves the demo and what dc2 wrote. Exits 1 at the
 * first failed check, saying which.
 */
import { execFileSync, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../infra/eventually';
import { DemoSeed, seedDemo, waitUntilRoutable } from '../stack/demo.seed';
import { GraphQlClient } from '../stack/graphql.client';

const PORTS = {
  controlPlanes: [
    { dc: 'dc1', url: 'http://127.0.0.1:4000', service: 'control-plane-dc1' },
    { dc: 'dc2', url: 'http://127.0.0.1:4100', service: 'control-plane-dc2' },
  ],
  gateways: [
    { dc: 'dc1', url: 'http://127.0.0.1:8080', service: 'gateway-dc1' },
    { dc: 'dc2', url: 'http://127.0.0.1:8180', service: 'gateway-dc2' },
  ],
  replicators: [
    { dc: 'dc1', url: 'http://127.0.0.1:9090', service: 'replicator-dc1' },
    { dc: 'dc2', url: 'http://127.0.0.1:9190', service: 'replicator-dc2' },
  ],
};

const ENDPOINTS = 'dc1=http://control-plane-dc1:4000,dc2=http://control-plane-dc2:4000';

const log = (line: string) => console.log(`  ${line}`);

async function main(): Promise<void> {
  const project = argument('--project');
  const upstreamUrl = argument('--upstream');
  const admin = { username: process.env.APIM_ADMIN_USER ?? 'admin', password: required('APIM_ADMIN_PASSWORD') };
  const container = (service: string, stopped = false) => {
    const labels = [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`];
    const id = execFileSync(
      'docker',
      ['ps', '-q', ...(stopped ? ['--all'] : []), ...labels.flatMap((label) => ['--filter', `label=${label}`])],
      { encoding: 'utf8' },
    ).trim();
    if (!id) throw new Error(`no ${stopped ? '' : 'running '}container for ${service} in project ${project}`);
    return id;
  };
  /** apimctl as an SRE would run it inside the deployment: in dc2's control-plane container, the control planes by service name. */
  const apimctl = (args: string[]) =>
    spawnSync(
      'docker',
      [
        'exec',
        '-e',
        'APIMCTL_USER',
        '-e',
        'APIMCTL_PASSWORD',
        container('control-plane-dc2'),
        'node',
        'dist/apps/apimctl/src/main.js',
        ...args,
        '--endpoints',
        ENDPOINTS,
      ],
      { encoding: 'utf8', env: { ...process.env, APIMCTL_USER: admin.username, APIMCTL_PASSWORD: admin.password } },
    );

  await checkApps(container);
  const stateDir = mkdtempSync(join(tmpdir(), 'apim-rehearsal-'));
  try {
    const demo = await seedDemo({ controlPlanes: PORTS.controlPlanes, upstreamUrl, admin, stateFile: join(stateDir, 'demo.json'), log });
    await waitUntilRoutable(PORTS.gateways, demo.path, demo.key, log);
    const echoed = await call(PORTS.gateways[1].url, demo.path, demo.key);
    if (echoed.status !== 200 || !echoed.body.includes('"upstream":"compose"'))
      throw new Error(`dc2's gateway answered ${echoed.status} ${echoed.body}, not the upstream's echo`);
    log(`dc2 gateway -> upstream container: ${echoed.body.trim()}`);
    await checkRevocation(demo);

    const status = apimctl(['status']);
    if (status.status !== 0 || !/^dc1\s+PRIMARY/m.test(status.stdout) || !/^dc2\s+STANDBY/m.test(status.stdout))
      throw new Error(`apimctl status exited ${status.status}, not listing dc1 PRIMARY and dc2 STANDBY:\n${status.stdout}${status.stderr}`);
    log(`apimctl status (inside the image):\n${status.stdout.replace(/^/gm, '    ')}`);

    const written = await checkFailover(demo, admin, upstreamUrl, container, apimctl, (service) => container(service, true));
    await checkRebuild(project, demo, written, container, apimctl);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

type Container = (service: string, stopped?: boolean) => string;
type Apimctl = (args: string[]) => SpawnSyncReturns<string>;

/** Every app answers /healthz and /readyz on its published port, and runs as a user that is not root. */
async function checkApps(container: Container): Promise<void> {
  for (const app of [...PORTS.controlPlanes, ...PORTS.gateways, ...PORTS.replicators]) {
    const uid = execFileSync('docker', ['exec', container(app.service), 'id', '-u'], { encoding: 'utf8' }).trim();
    if (uid === '0') throw new Error(`${app.service} runs as root`);
    await eventuallyNamed(`${app.service} ready`, 120_000, async () => {
      for (const path of ['/healthz', '/readyz']) {
        const response = await fetch(`${app.url}${path}`, { signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`${path} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
      }
    });
    log(`${app.service}: /healthz and /readyz 200, uid ${uid}`);
  }
}

/** A second key of the demo application, revoked in dc1: refused at both gateways, the demo's key still accepted. */
async function checkRevocation(demo: DemoSeed): Promise<void> {
  const dc1 = new GraphQlClient(PORTS.controlPlanes[0].url);
  const developer = await dc1.login(demo.developer.username, demo.developer.password!);
  const { keyId, key } = (
    await dc1.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { keyId key } }`, { app: demo.applicationId }, developer)
  ).generateApiKey;
  await waitUntilRoutable(PORTS.gateways, demo.path, key, () => undefined);
  await dc1.ok(`mutation($id: ID!) { revokeApiKey(keyId: $id) }`, { id: keyId }, developer);
  for (const gateway of PORTS.gateways) {
    await eventuallyNamed(`${gateway.dc} gateway refuses the revoked key`, 30_000, async () => {
      const answer = await call(gateway.url, demo.path, key);
      if (answer.status !== 401 || !answer.body.includes('REVOKED_CREDENTIALS'))
        throw new Error(`answered ${answer.status} ${answer.body}`);
    });
    const kept = await call(gateway.url, demo.path, demo.key);
    if (kept.status !== 200)
      throw new Error(`${gateway.dc} gateway refused the demo's own key after another was revoked: ${kept.status} ${kept.body}`);
  }
  log('a key revoked in dc1: 401 REVOKED_CREDENTIALS at both gateways, the other key still 200');
}

/**
 * The runbook's failover with dc1 lost: every dc1 container killed, `apimctl
 * failover --to dc2`, then an API created, published, subscribed and keyed in
 * dc2 is served by dc2's gateway, as is the demo. dc1's containers started
 * again: dc1 demotes itself and catches up.
 */
async function checkFailover(
  demo: DemoSeed,
  admin: { username: string; password: string },
  upstreamUrl: string,
  container: Container,
  apimctl: Apimctl,
  stoppedContainer: Container,
): Promise<{ path: string; key: string }> {
  const dc2 = new GraphQlClient(PORTS.controlPlanes[1].url);
  const adminToken = await dc2.login(admin.username, admin.password);
  const developer = await dc2.login(demo.developer.username, demo.developer.password!);

  const dc1Services = ['control-plane-dc1', 'gateway-dc1', 'replicator-dc1', 'kafka-dc1', 'postgres-dc1'];
  execFileSync('docker', ['kill', ...dc1Services.map((service) => container(service))], { encoding: 'utf8' });
  log(`dc1 lost: ${dc1Services.join(', ')} killed`);
  const down = apimctl(['status']);
  if (down.status !== 3 || !/^dc1\s+UNREACHABLE/m.test(down.stdout))
    throw new Error(`apimctl status with dc1 lost exited ${down.status} (3 expected, dc1 UNREACHABLE):\n${down.stdout}${down.stderr}`);
  const failover = apimctl(['failover', '--to', 'dc2']);
  if (failover.status !== 0 || !failover.stdout.includes('dc2 is now primary in epoch 2'))
    throw new Error(`apimctl failover --to dc2 exited ${failover.status}:\n${failover.stdout}${failover.stderr}`);
  log(`apimctl failover --to dc2: ${failover.stdout.trim().split('\n').pop()}`);

  const context = `/after-failover-${Date.now()}`;
  const api = (
    await dc2.ok(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
      { input: { name: 'After failover', version: 'v1', context, upstreamUrls: [upstreamUrl] } },
      adminToken,
    )
  ).createApi;
  await dc2.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: api.id }, adminToken);
  await dc2.ok(
    `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
    { app: demo.applicationId, api: api.id },
    developer,
  );
  const { key } = (
    await dc2.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: demo.applicationId }, developer)
  ).generateApiKey;
  await waitUntilRoutable([PORTS.gateways[1]], `${context}/v1/items`, key, log);
  const before = await call(PORTS.gateways[1].url, demo.path, demo.key);
  if (before.status !== 200) throw new Error(`dc2's gateway refused the demo's key after the failover: ${before.status} ${before.body}`);
  log(`written in dc2 after the failover (API ${api.id}, home ${api.homeDc}): served by dc2's gateway, as is the demo`);

  execFileSync('docker', ['start', ...dc1Services.map((service) => stoppedContainer(service))], { encoding: 'utf8' });
  log('dc1 started again');
  await dc1StandbyInEpoch2(apimctl, 'dc1 back as a standby of dc2 in epoch 2', 180_000);
  await waitUntilRoutable([PORTS.gateways[0]], `${context}/v1/items`, key, log);
  log('dc1 demoted itself to standby in epoch 2 and its gateway serves what dc2 wrote');
  return { path: `${context}/v1/items`, key };
}

/** dc1's services, those whose data is lost with it, and their volumes (docker/compose.two-dc.yml). */
const DC1 = {
  services: ['control-plane-dc1', 'gateway-dc1', 'replicator-dc1', 'kafka-dc1', 'postgres-dc1'],
  infrastructure: ['kafka-dc1', 'postgres-dc1'],
  volumes: ['kafka-dc1', 'postgres-dc1', 'gateway-dc1'],
};

/**
 * dc1 is lost for good: its containers and volumes are removed. Then it is
 * rebuilt as docs/operations.md 6.4 says: empty Kafka and PostgreSQL, the
 * restore run in the image with control-plane-dc1's environment and
 * replicator-dc1's PEER_KAFKA_BROKERS, then dc1's apps. dc1 is a standby in
 * epoch 2 again, and its gateway serves the demo (written in dc1 before it was
 * lost) and what dc2 wrote after the failover.
 */
async function checkRebuild(
  project: string,
  demo: DemoSeed,
  written: { path: string; key: string },
  container: Container,
  apimctl: Apimctl,
) {
  const compose = required('APIM_REHEARSAL_COMPOSE').split(' ');
  const run = (args: string[]) => spawnSync(compose[0], [...compose.slice(1), ...args], { encoding: 'utf8' });
  execFileSync('docker', ['rm', '-f', ...DC1.services.map((service) => container(service, true))], { encoding: 'utf8' });
  execFileSync('docker', ['volume', 'rm', ...DC1.volumes.map((volume) => `${project}_${volume}`)], { encoding: 'utf8' });
  log(`dc1 lost for good: ${DC1.services.join(', ')} and their volumes removed`);

  const up = run(['up', '-d', '--no-build', ...DC1.infrastructure]);
  if (up.status !== 0) throw new Error(`compose up ${DC1.infrastructure.join(' ')} exited ${up.status}:\n${up.stderr}`);
  await eventuallyNamed(`new, empty ${DC1.infrastructure.join(' and ')} healthy`, 180_000, async () => {
    for (const service of DC1.infrastructure) {
      const health = execFileSync('docker', ['inspect', '--format', '{{.State.Health.Status}}', container(service)], {
        encoding: 'utf8',
      }).trim();
      if (health !== 'healthy') throw new Error(`${service} is ${health}`);
    }
  });
  const restore = run([
    'run',
    '--rm',
    '--no-deps',
    '-T',
    '-e',
    'PEER_KAFKA_BROKERS=dc2=kafka-dc2:9092',
    'control-plane-dc1',
    'node',
    'dist/scripts/dc-restore.js',
    '--from',
    'dc2',
  ]);
  if (
    restore.status !== 0 ||
    !restore.stdout.includes('dc1 restored from dc2:') ||
    !restore.stdout.includes('dc1 starts as STANDBY in epoch 2')
  )
    throw new Error(`dc-restore.js in the image exited ${restore.status}:\n${restore.stdout}${restore.stderr}`);
  log(`dc-restore.js --from dc2 (in the image):\n${restore.stdout.trimEnd().replace(/^/gm, '    ')}`);

  const rest = run(['up', '-d', '--no-build']);
  if (rest.status !== 0) throw new Error(`compose up exited ${rest.status}:\n${rest.stderr}`);
  await dc1StandbyInEpoch2(apimctl, 'the rebuilt dc1 a standby of dc2 in epoch 2', 240_000);
  await waitUntilRoutable([PORTS.gateways[0]], demo.path, demo.key, log);
  await waitUntilRoutable([PORTS.gateways[0]], written.path, written.key, log);
  log("the rebuilt dc1 is a standby in epoch 2; its gateway serves the demo (dc1's own history, restored) and what dc2 wrote");
}

/** Waits until `apimctl status` exits 0 listing dc1 STANDBY and dc2 PRIMARY, both in epoch 2 (`what` names it in a failure). */
function dc1StandbyInEpoch2(apimctl: Apimctl, what: string, timeoutMs: number): Promise<void> {
  return eventuallyNamed(what, timeoutMs, async () => {
    const status = apimctl(['status']);
    if (status.status !== 0 || !/^dc1\s+STANDBY\s+2\b/m.test(status.stdout) || !/^dc2\s+PRIMARY\s+2\b/m.test(status.stdout))
      throw new Error(`apimctl status exited ${status.status}:\n${status.stdout}${status.stderr}`);
  });
}

async function call(base: string, path: string, key: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}${path}`, { headers: { apikey: key }, signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.text() };
}

/** `eventually`, its last error named after `what`. */
function eventuallyNamed(what: string, timeoutMs: number, check: () => Promise<void>): Promise<void> {
  return eventually(check, timeoutMs, 500).catch((error: Error) => {
    throw new Error(`${what}: not within ${timeoutMs} ms: ${error.message}`);
  });
}

function argument(name: string): string {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

main().catch((error: Error) => {
  console.error(`[rehearse] FAILED: ${error.message}`);
  process.exit(1);
});
