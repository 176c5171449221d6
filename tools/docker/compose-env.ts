import { load } from 'js-yaml';
import { ConfigError, configVariables, loadConfig } from '@apim/events';
import { ControlPlaneConfig } from '../../apps/control-plane/src/config/control-plane.config';
import { GatewayConfig } from '../../apps/gateway-worker/src/config/gateway.config';
import { ReplicatorConfig } from '../../apps/replicator/src/config/replicator.config';

/**
 * The environment schema of each app the image runs: all that our code reads at
 * run time, but for npm's own `npm_package_version` (the gateway's version, unset
 * under `node main.js`). NODE_ENV is read by Express and Apollo only; the image sets it.
 */
export const APP_SCHEMAS = {
  'control-plane': ControlPlaneConfig,
  'gateway-worker': GatewayConfig,
  replicator: ReplicatorConfig,
} as const;

export type AppName = keyof typeof APP_SCHEMAS;

type AppConfig = ControlPlaneConfig | GatewayConfig | ReplicatorConfig;

/** What checkComposeEnv found: the app services whose environment their app accepts, and every problem (none: empty). */
export interface ComposeCheck {
  apps: { service: string; app: AppName; dc: string }[];
  problems: string[];
}

/** An app container of a compose file: its DC when DC_ID is set, its configuration when the app accepts its environment. */
interface AppService {
  service: string;
  app: AppName;
  dc?: string;
  config?: AppConfig;
}

/**
 * Checks a compose file's app services against the apps' environment schemas.
 * For each service whose command runs `dist/apps/<app>/src/main.js`: every
 * variable it sets is one the app reads and is set once, every variable the app
 * requires is set, the values (interpolated from `hostEnv` as compose would)
 * pass the app's own validation, and its healthcheck asks the app's port for
 * /healthz. Across services: each DC runs a control plane, a gateway and a
 * replicator that agree on their Kafka and name every other DC as a peer; each
 * replicator pulls every other DC from that DC's own Kafka; every host named
 * is a service of the file; all agree on APIM_ISSUER. Every service has a healthcheck.
 */
export function checkComposeEnv(yaml: string, hostEnv: Record<string, string | undefined> = {}): ComposeCheck {
  const problems: string[] = [];
  let doc: { services?: Record<string, ComposeService> } | null;
  try {
    doc = load(yaml) as typeof doc; // a key twice in one mapping is an error here, as in compose
  } catch (error) {
    return { apps: [], problems: [`not valid YAML: ${(error as Error).message}`] };
  }
  const services = doc?.services ?? {};
  if (Object.keys(services).length === 0) return { apps: [], problems: ['the file defines no services'] };

  const apps: AppService[] = [];
  for (const [name, service] of Object.entries(services)) {
    if (!service.healthcheck?.test || service.healthcheck.disable) problems.push(`${name}: has no healthcheck`);
    const app = appOf(service);
    if (!app) {
      if (service.build) problems.push(`${name}: builds the apim image but its command names no app (dist/apps/<app>/src/main.js)`);
      continue;
    }
    if (service.env_file) problems.push(`${name}: env_file cannot be checked; set its variables under environment`);
    apps.push(checkService(name, app, service, hostEnv, problems));
  }
  checkTopology(apps, new Set(Object.keys(services)), problems);
  const accepted = apps.filter((a): a is Required<AppService> => a.config !== undefined);
  return { apps: accepted.map(({ service, app, dc }) => ({ service, app, dc })), problems };
}

interface ComposeService {
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: unknown;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}

function appOf(service: ComposeService): AppName | undefined {
  const command = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
  const app = /dist\/apps\/([a-z-]+)\/src\/main\.js/.exec(command)?.[1];
  return app && app in APP_SCHEMAS ? (app as AppName) : undefined;
}

function checkService(
  name: string,
  app: AppName,
  service: ComposeService,
  hostEnv: Record<string, string | undefined>,
  problems: string[],
): AppService {
  const schema: new () => AppConfig = APP_SCHEMAS[app];
  const variables = configVariables(schema);
  const reads = new Set(variables.map((v) => v.name));
  const required = new Set(variables.filter((v) => v.required).map((v) => v.name));
  const entries = environmentEntries(service.environment);

  const set = new Set<string>();
  for (const [variable] of entries) {
    if (set.has(variable)) problems.push(`${name}: sets ${variable} more than once`);
    set.add(variable);
    if (!reads.has(variable)) problems.push(`${name}: sets ${variable}, which ${app} does not read`);
  }
  for (const variable of required) {
    if (!set.has(variable)) problems.push(`${name}: does not set ${variable}, which ${app} requires`);
  }

  const env: Record<string, string> = {};
  for (const [variable, raw] of entries) {
    // A bare name (`KEY` or `KEY:`) passes the host's value through, as compose does.
    const value =
      raw === null ? hostEnv[variable] : interpolate(raw, hostEnv, (missing) => problems.push(`${name}: ${variable} ${missing}`));
    if (value !== undefined) env[variable] = value;
  }
  let config: AppConfig;
  try {
    config = loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Unset required variables and unresolved values are reported above already.
    for (const p of error.problems)
      if (p.variable in env || !(set.has(p.variable) || required.has(p.variable))) problems.push(`${name}: ${p.variable} ${p.reason}`);
    return { service: name, app, dc: env.DC_ID };
  }

  const healthcheck = [service.healthcheck?.test ?? []].flat().join(' ');
  if (!healthcheck.includes(`:${config.PORT}/healthz`))
    problems.push(`${name}: healthcheck does not ask ${app}'s port ${config.PORT} for /healthz`);
  return { service: name, app, dc: config.DC_ID, config };
}

/** `environment:` as a map or a list of `KEY=value`, in order, duplicates kept; null is a bare name. */
function environmentEntries(environment: ComposeService['environment']): [string, string | null][] {
  if (!environment) return [];
  if (Array.isArray(environment)) {
    return environment.map((item) => {
      const at = item.indexOf('=');
      return at < 0 ? [item, null] : [item.slice(0, at), item.slice(at + 1)];
    });
  }
  return Object.entries(environment).map(([key, value]) => [key, value === null ? null : String(value)]);
}

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. */
export function interpolate(
  text: string,
  hostEnv: Record<string, string | undefined>,
  onMissing: (message: string) => void = () => undefined,
): string | undefined {
  let unresolved = false;
  const result = text.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _match,
      dollar: string | undefined,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar) return '$';
      const variable = (braced ?? bare)!;
      const value = hostEnv[variable];
      const unset = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
      switch (op?.replace(':', '')) {
        case '-':
          return unset ? (arg ?? '') : value!;
        case '+':
          return unset ? '' : (arg ?? '');
        case '?':
          if (unset) {
            unresolved = true;
            onMissing(`needs the host variable ${variable}${arg ? ` (${arg})` : ''}`);
          }
          return value ?? '';
        default:
          return value ?? '';
      }
    },
  );
  return unresolved ? undefined : result;
}

/** Relations between services; those whose environment their app refuses (reported already) count only as present in their DC. */
function checkTopology(all: AppService[], serviceNames: Set<string>, problems: string[]): void {
  for (const dc of new Set(all.flatMap((a) => (a.dc ? [a.dc] : [])))) {
    for (const app of Object.keys(APP_SCHEMAS)) {
      if (!all.some((a) => a.dc === dc && a.app === app)) problems.push(`${dc}: runs no ${app}`);
    }
  }

  const apps = all.filter((a): a is Required<AppService> => a.config !== undefined);
  const byDc = new Map<string, Required<AppService>[]>();
  for (const app of apps) byDc.set(app.dc, [...(byDc.get(app.dc) ?? []), app]);
  const dcs = [...byDc.keys()].sort();
  const brokersOf = (dc: string) => byDc.get(dc)?.[0].config.KAFKA_BROKERS;

  for (const [dc, members] of byDc) {
    const brokers = new Set(members.map((m) => m.config.KAFKA_BROKERS));
    if (brokers.size > 1) problems.push(`${dc}: its services disagree on KAFKA_BROKERS (${[...brokers].join(' vs ')})`);

    const others = dcs.filter((other) => other !== dc).join(',');
    for (const { service, config } of members) {
      const peers = config instanceof ReplicatorConfig ? config.sources.map((s) => s.dc) : config.peerDcs;
      const what = config instanceof ReplicatorConfig ? 'pulls from' : 'has PEER_DCS';
      if ([...peers].sort().join(',') !== others)
        problems.push(`${service}: ${what} ${peers.join(',') || 'none'}, but the other DCs here are ${others || 'none'}`);
      if (!(config instanceof ReplicatorConfig)) continue;
      for (const source of config.sources) {
        const expected = brokersOf(source.dc);
        if (expected !== undefined && source.brokers.join(',') !== expected) {
          problems.push(
            `${service}: pulls ${source.dc} from ${source.brokers.join(',') || 'nowhere'}, but ${source.dc}'s KAFKA_BROKERS is ${expected}`,
          );
        }
      }
    }
  }

  // Tokens one DC's control plane signs are checked by every DC's gateways.
  const issuers = apps.flatMap(({ service, config }) => ('APIM_ISSUER' in config ? [{ service, issuer: config.APIM_ISSUER }] : []));
  if (new Set(issuers.map((i) => i.issuer)).size > 1) {
    problems.push(`APIM_ISSUER differs: ${issuers.map((i) => `${i.service}=${i.issuer}`).join(', ')}`);
  }

  for (const { service, config } of apps) {
    const addresses = [
      ...config.brokers,
      ...(config instanceof ReplicatorConfig ? config.sources.flatMap((s) => s.brokers) : []),
      ...(config instanceof ControlPlaneConfig ? [databaseHost(config.DATABASE_URL)] : []),
    ];
    for (const host of new Set(addresses.map((address) => address.split(':')[0]))) {
      if (!serviceNames.has(host)) problems.push(`${service}: names the host ${host}, which is no service in this file`);
    }
  }
}

function databaseHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url; // not a URL at all: reported as a host that is no service
  }
}
