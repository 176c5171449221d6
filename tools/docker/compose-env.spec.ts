import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configVariables } from '@apim/events';
import { APP_NODE_OPTIONS, AppName } from '../infra/app-process';
import { repoRoot } from '../infra/repo-root';
import { APP_SCHEMAS, checkComposeEnv, interpolate } from './compose-env';

const COMPOSE = readFileSync(join(repoRoot(), 'docker', 'compose.two-dc.yml'), 'utf8');

/** What an operator exports before `docker compose up` (the file's header lists it). */
const HOST_ENV = {
  APIM_SECRET_KEY_DC1: randomBytes(32).toString('base64'),
  APIM_SECRET_KEY_DC2: randomBytes(32).toString('base64'),
  APIM_ADMIN_PASSWORD: 'correct-horse-battery',
  POSTGRES_PASSWORD: 'apim4dc',
};

/** The compose file with one piece of text replaced, which must be there. */
function composeWith(from: string, to: string): string {
  expect(COMPOSE).toContain(from);
  return COMPOSE.replace(from, to);
}

describe('docker/compose.two-dc.yml', () => {
  it('runs a control plane, a gateway and a replicator in each of dc1 and dc2', () => {
    const { apps } = checkComposeEnv(COMPOSE, HOST_ENV);
    expect(apps.map((a) => `${a.dc} ${a.app}`).sort()).toEqual([
      'dc1 control-plane',
      'dc1 gateway-worker',
      'dc1 replicator',
      'dc2 control-plane',
      'dc2 gateway-worker',
      'dc2 replicator',
    ]);
  });

  it('runs each app with the Node.js options it runs with outside Docker (tools/infra/app-process.ts)', () => {
    const commands = [...COMPOSE.matchAll(/^\s*command: \[(.*dist\/apps\/([\w-]+)\/src\/main\.js.*)\]$/gm)];
    expect(commands.length).toBe(6);
    for (const [, command, app] of commands) {
      const options = command.split(',').map((part) => part.trim().replace(/^'|'$/g, ''));
      expect(options.slice(1, -1)).toEqual(APP_NODE_OPTIONS[app as AppName]);
    }
  });

  it('sets only variables the apps read, every variable they require, and values they accept', () => {
    expect(checkComposeEnv(COMPOSE, HOST_ENV).problems).toEqual([]);
  });

  it('takes exactly the secrets its header lists from the host, and names each one missing', () => {
    const { problems } = checkComposeEnv(COMPOSE, {});
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.filter((p) => !p.includes('needs the host variable'))).toEqual([]);
    const named = new Set(problems.map((p) => /host variable (\w+)/.exec(p)?.[1]));
    expect([...named].sort()).toEqual(Object.keys(HOST_ENV).sort());
    const header = COMPOSE.split('\n').filter((line) => line.startsWith('#'));
    for (const variable of named) expect(header.join('\n')).toContain(variable!);
  });

  it('reports a secret the control plane would refuse, without echoing it', () => {
    const { problems } = checkComposeEnv(COMPOSE, { ...HOST_ENV, APIM_SECRET_KEY_DC2: 'not-32-bytes' });
    expect(problems).toEqual([expect.stringMatching(/^control-plane-dc2: APIM_SECRET_KEY must be 32 bytes/)]);
    expect(problems.join()).not.toContain('not-32-bytes');
  });

  it('reports a variable the app does not read', () => {
    const { problems } = checkComposeEnv(composeWith('GATEWAY_ID: gateway-dc2', 'GATEWAY_NAME: gateway-dc2'), HOST_ENV);
    expect(problems).toEqual(['gateway-dc2: sets GATEWAY_NAME, which gateway-worker does not read']);
  });

  it('reports NODE_ENV, which the image sets and only Express and Apollo read', () => {
    const { problems } = checkComposeEnv(
      composeWith('GATEWAY_ID: gateway-dc1', 'GATEWAY_ID: gateway-dc1\n      NODE_ENV: production'),
      HOST_ENV,
    );
    expect(problems).toEqual(['gateway-dc1: sets NODE_ENV, which gateway-worker does not read']);
  });

  it('reports a required variable that is not set', () => {
    const { problems } = checkComposeEnv(composeWith('      PEER_KAFKA_BROKERS: dc2=kafka-dc2:9092\n', ''), HOST_ENV);
    expect(problems).toEqual(['replicator-dc1: does not set PEER_KAFKA_BROKERS, which replicator requires']);
  });

  it("reports a replicator that pulls its peer from a cluster other than the peer's own", () => {
    const { problems } = checkComposeEnv(
      composeWith('PEER_KAFKA_BROKERS: dc1=kafka-dc1:9092', 'PEER_KAFKA_BROKERS: dc1=kafka-dc2:9092'),
      HOST_ENV,
    );
    expect(problems).toEqual(["replicator-dc2: pulls dc1 from kafka-dc2:9092, but dc1's KAFKA_BROKERS is kafka-dc1:9092"]);
  });

  it('reports services of one DC that disagree on its Kafka', () => {
    const gateway = 'GATEWAY_ID: gateway-dc1';
    const text = composeWith(
      `KAFKA_BROKERS: kafka-dc1:9092\n      PEER_DCS: dc2\n      ${gateway}`,
      `KAFKA_BROKERS: kafka-dc2:9092\n      PEER_DCS: dc2\n      ${gateway}`,
    );
    expect(checkComposeEnv(text, HOST_ENV).problems).toContain(
      'dc1: its services disagree on KAFKA_BROKERS (kafka-dc1:9092 vs kafka-dc2:9092)',
    );
  });

  it('reports a healthcheck that asks another port than the app listens on', () => {
    const { problems } = checkComposeEnv(composeWith('127.0.0.1:9090/healthz', '127.0.0.1:9191/healthz'), HOST_ENV);
    expect(problems).toEqual(["replicator-dc1: healthcheck does not ask replicator's port 9090 for /healthz"]);
  });
});

describe('checkComposeEnv', () => {
  // Small enough to read at a glance: one gateway whose Kafka variable is misspelt.
  const MISSPELT = [
    'services:',
    '  gateway:',
    '    image: apim',
    '    command: node dist/apps/gateway-worker/src/main.js',
    '    environment:',
    '      - DC_ID=dc1',
    '      - KAFKA_BROKER=kafka:9092',
    '    healthcheck:',
    `      test: node -e "fetch('http://127.0.0.1:8080/healthz')"`,
  ].join('\n');

  it('reports an unknown variable and the required one it stands for', () => {
    expect(checkComposeEnv(MISSPELT).problems).toEqual(
      expect.arrayContaining([
        'gateway: sets KAFKA_BROKER, which gateway-worker does not read',
        'gateway: does not set KAFKA_BROKERS, which gateway-worker requires',
      ]),
    );
  });

  it('reports a variable set twice, a service without healthcheck and an image run without an app', () => {
    const text = [
      MISSPELT.replace('KAFKA_BROKER=kafka:9092', 'KAFKA_BROKERS=kafka:9092\n      - DC_ID=dc2'),
      '  kafka:',
      '    image: apache/kafka:3.9.1',
      '  tool:',
      '    build: { context: .., dockerfile: docker/Dockerfile }',
      '    command: node dist/tools/whatever.js',
      '    healthcheck: { test: "true" }',
    ].join('\n');
    const { problems } = checkComposeEnv(text);
    expect(problems).toContain('gateway: sets DC_ID more than once');
    expect(problems).toContain('kafka: has no healthcheck');
    expect(problems).toContain('tool: builds the apim image but its command names no app (dist/apps/<app>/src/main.js)');
  });

  it('reports a variable set twice in a mapping', () => {
    const text = MISSPELT.replace('- DC_ID=dc1', 'DC_ID: dc1').replace('- KAFKA_BROKER=kafka:9092', 'DC_ID: dc2');
    expect(checkComposeEnv(text).problems).toEqual([expect.stringMatching(/^not valid YAML: duplicated mapping key/)]);
  });

  it('reports a DC without a control plane or a replicator, and a host that is no service', () => {
    const text = MISSPELT.replace('KAFKA_BROKER=kafka:9092', 'KAFKA_BROKERS=kafka:9092');
    expect(checkComposeEnv(text).problems).toEqual([
      'dc1: runs no control-plane',
      'dc1: runs no replicator',
      'gateway: names the host kafka, which is no service in this file',
    ]);
  });
});

describe('interpolate', () => {
  const host = { SET: 'value', EMPTY: '' };

  it('substitutes variables and defaults as compose does', () => {
    expect(interpolate('a-${SET}-$SET-$$SET', host)).toBe('a-value-value-$SET');
    expect(interpolate('${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:+alt} ${UNSET:+alt}', host)).toBe('d d  alt ');
  });

  it('reports a required variable that the host does not set', () => {
    const missing: string[] = [];
    expect(interpolate('x${EMPTY:?say why}', host, (m) => missing.push(m))).toBeUndefined();
    expect(missing).toEqual(['needs the host variable EMPTY (say why)']);
    expect(interpolate('x${EMPTY?say why}', host)).toBe('x');
  });
});

describe("the apps' environment schemas", () => {
  it('require what every deployment must set, and nothing else', () => {
    const required = Object.fromEntries(
      Object.entries(APP_SCHEMAS).map(([app, schema]) => [
        app,
        configVariables(schema)
          .filter((v) => v.required)
          .map((v) => v.name)
          .sort(),
      ]),
    );
    expect(required).toEqual({
      'control-plane': ['APIM_SECRET_KEY', 'DATABASE_URL', 'DC_ID', 'KAFKA_BROKERS'],
      'gateway-worker': ['DC_ID', 'KAFKA_BROKERS'],
      replicator: ['DC_ID', 'KAFKA_BROKERS', 'PEER_KAFKA_BROKERS'],
    });
  });
});
