import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { GqlRefused, GraphQlClient } from './graphql.client';

/** What the demo consists of; fixed names, so that a restart finds what an earlier start created. */
export const DEMO = {
  api: { name: 'Demo', context: '/demo', version: 'v1' },
  developer: 'demo-developer',
  application: 'Demo app',
  tier: 'Gold',
} as const;

export interface DemoSeed {
  api: { id: string; name: string; context: string; version: string };
  /** A path on any gateway that reaches the sample upstream's `/hello`. */
  path: string;
  developer: { username: string; password?: string };
  applicationId: string;
  tier: string;
  keyId: string;
  /** The demo's API key: shown by the walkthrough (a local demo), kept in the state file (mode 0600). */
  key: string;
}

/** What survives between starts (mode 0600: a password and a key). */
interface DemoState {
  developerPassword?: string;
  applicationId?: string;
  keyId?: string;
  key?: string;
}

interface ApiRow {
  id: string;
  name: string;
  context: string;
  version: string;
  state: string;
  upstreamUrls: string[];
}

export interface SeedOptions {
  /** Every DC's control plane; the first (dc1) is asked who the primary is, and writes go there. */
  controlPlanes: { dc: string; url: string }[];
  upstreamUrl: string;
  /** The ADMIN the control planes bootstrapped (APIM_ADMIN_USER / APIM_ADMIN_PASSWORD). */
  admin: { username: string; password: string };
  stateFile: string;
  log: (line: string) => void;
}

/**
 * Seeds the demo through the public GraphQL API, as a newcomer would by hand:
 * the admin creates and publishes the demo API, a developer signs up, creates
 * an application, subscribes it on the Gold tier and gets an API key.
 * Idempotent: what exists (the API by context and version, the developer, the
 * application, the subscription, an active key) is reused.
 */
export async function seedDemo(options: SeedOptions): Promise<DemoSeed> {
  const { log } = options;
  const state = readState(options.stateFile);
  const save = () => writeState(options.stateFile, state);
  const { client, adminToken } = await primaryAsAdmin(options);

  const api = await ensureApi(client, adminToken, options.upstreamUrl, log);
  const developer = await developerToken(client, adminToken, state, save, log);
  const applicationId = await ensureApplication(client, developer.token, state, log);
  save();
  try {
    await client.ok(
      `mutation($app: ID!, $api: ID!, $tier: String!) { subscribe(applicationId: $app, apiId: $api, tier: $tier) { id } }`,
      { app: applicationId, api: api.id, tier: DEMO.tier },
      developer.token,
    );
    log(`subscribed "${DEMO.application}" to ${DEMO.api.name} ${DEMO.api.version} on the ${DEMO.tier} tier`);
  } catch (error) {
    if (!(error instanceof GqlRefused && error.reason === 'SUBSCRIPTION.ALREADY_ACTIVE')) throw error;
    log(`"${DEMO.application}" is subscribed to ${DEMO.api.name} ${DEMO.api.version} already`);
  }
  const { keyId, key } = await ensureKey(client, developer.token, applicationId, state, log);
  save();
  return {
    api: { id: api.id, name: api.name, context: api.context, version: api.version },
    path: `${api.context}/${api.version}/hello`,
    developer: { username: DEMO.developer, password: state.developerPassword },
    applicationId,
    tier: DEMO.tier,
    keyId,
    key,
  };
}

/**
 * Polls `path` at every gateway with the key until each answers 200: the
 * API, the subscription and the key have reached it (a peer DC's gateway
 * through replication).
 */
export async function waitUntilRoutable(
  gateways: { dc: string; url: string }[],
  path: string,
  key: string,
  log: (line: string) => void,
  timeoutMs = 120_000,
): Promise<void> {
  const started = Date.now();
  await Promise.all(
    gateways.map(async (gateway) => {
      let last = 'no answer';
      while (Date.now() - started < timeoutMs) {
        try {
          const response = await fetch(`${gateway.url}${path}`, { headers: { apikey: key }, signal: AbortSignal.timeout(5000) });
          const body = await response.text();
          if (response.status === 200) {
            log(`${gateway.dc} gateway routes ${path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
            return;
          }
          last = `${response.status} ${body.trim()}`;
        } catch (error) {
          last = (error as Error).message;
        }
        await sleep(500);
      }
      throw new Error(`${gateway.dc} gateway at ${gateway.url} did not route ${path} within ${timeoutMs} ms (last answer: ${last})`);
    }),
  );
}

/** The primary's control plane, signed in as the admin: the first DC says which one it is. */
async function primaryAsAdmin(options: SeedOptions): Promise<{ client: GraphQlClient; adminToken: string }> {
  const [first] = options.controlPlanes;
  const { username, password } = options.admin;
  let client = new GraphQlClient(first.url);
  let adminToken: string;
  try {
    adminToken = await client.login(username, password);
  } catch (error) {
    if (!(error instanceof GqlRefused && error.code === 'UNAUTHENTICATED')) throw error;
    // The admin is created once: a later start with other APIM_ADMIN_USER / APIM_ADMIN_PASSWORD does not change it.
    throw new Error(
      `the admin ${username} could not sign in at ${first.dc} (${error.message}): the databases keep the admin of the start that ` +
        'created them; start with the same APIM_ADMIN_USER / APIM_ADMIN_PASSWORD, or delete .run/stack to start afresh',
    );
  }
  const { regions } = await client.ok<{ regions: { dc: string; role: string }[] }>(`{ regions { dc role } }`, {}, adminToken);
  const primary = regions.find((region) => region.role === 'PRIMARY')?.dc;
  const target = options.controlPlanes.find((cp) => cp.dc === primary);
  if (target && target.dc !== first.dc) {
    options.log(`${first.dc} is a standby (the primary is ${target.dc}, after a failover): seeding through ${target.dc}`);
    client = new GraphQlClient(target.url);
    adminToken = await client.login(username, password);
  }
  return { client, adminToken };
}

async function ensureApi(client: GraphQlClient, token: string, upstreamUrl: string, log: (line: string) => void): Promise<ApiRow> {
  const { name, context, version } = DEMO.api;
  for (let attempt = 1; ; attempt++) {
    const { apis } = await client.ok<{ apis: ApiRow[] }>(`{ apis { id name context version state upstreamUrls } }`, {}, token);
    let api = apis.find((a) => a.context === context && a.version === version && a.state !== 'RETIRED');
    if (api) {
      if (api.upstreamUrls.length !== 1 || api.upstreamUrls[0] !== upstreamUrl) {
        await client.ok(
          `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
          { id: api.id, input: { upstreamUrls: [upstreamUrl] } },
          token,
        );
        log(`API ${name} ${version}: upstream set to ${upstreamUrl}`);
      }
      const action = ({ CREATED: 'PUBLISH', BLOCKED: 'UNBLOCK' } as Record<string, string | undefined>)[api.state];
      if (action) await lifecycle(client, token, api.id, action);
      log(`API ${api.name} ${version} at ${context} (${api.id}): exists, ${action ? `${action} sent` : api.state}`);
      return api;
    }
    try {
      api = (
        await client.ok<{ createApi: ApiRow }>(
          `mutation($input: CreateApiInput!) { createApi(input: $input) { id name context version state upstreamUrls } }`,
          { input: { name, version, context, upstreamUrls: [upstreamUrl] } },
          token,
        )
      ).createApi;
    } catch (error) {
      // Created by an earlier start whose read model has not caught up yet: read again.
      if (error instanceof GqlRefused && error.reason === 'API.CONTEXT_TAKEN' && attempt < 10) {
        await sleep(1000);
        continue;
      }
      throw error;
    }
    await lifecycle(client, token, api.id, 'PUBLISH');
    log(`API ${name} ${version} at ${context} (${api.id}): created and published, upstream ${upstreamUrl}`);
    return api;
  }
}

function lifecycle(client: GraphQlClient, token: string, id: string, action: string): Promise<unknown> {
  return client.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: ${action}) { state } }`, { id }, token);
}

/**
 * The demo developer's token. Its password is made up on first use and kept
 * in the state file; should the file be gone while the user exists, the admin
 * (who may act on any application) stands in for it.
 */
async function developerToken(
  client: GraphQlClient,
  adminToken: string,
  state: DemoState,
  save: () => void,
  log: (line: string) => void,
): Promise<{ token: string }> {
  if (state.developerPassword) {
    try {
      const token = await client.login(DEMO.developer, state.developerPassword);
      log(`developer ${DEMO.developer}: exists, signed in`);
      return { token };
    } catch (error) {
      // One failed login (the throttle allows five); a database started afresh no longer has the user: sign up again.
      if (!(error instanceof GqlRefused && error.code === 'UNAUTHENTICATED')) throw error;
    }
  } else {
    state.developerPassword = randomBytes(18).toString('base64url');
    save();
  }
  try {
    const token = await client.signUp(DEMO.developer, state.developerPassword);
    log(`developer ${DEMO.developer}: signed up`);
    return { token };
  } catch (error) {
    if (!(error instanceof GqlRefused && error.reason === 'USER.ALREADY_EXISTS')) throw error;
    log(`developer ${DEMO.developer}: exists, but its password is not in the state file; the admin acts for it`);
    return { token: adminToken };
  }
}

async function ensureApplication(client: GraphQlClient, token: string, state: DemoState, log: (line: string) => void): Promise<string> {
  const { applications } = await client.ok<{ applications: { id: string; name: string; ownerId: string }[] }>(
    `{ applications { id name ownerId } }`,
    {},
    token,
  );
  const existing =
    applications.find((a) => a.id === state.applicationId) ??
    applications.find((a) => a.name === DEMO.application && a.ownerId === `user:${DEMO.developer}`);
  if (existing) {
    log(`application "${DEMO.application}" (${existing.id}): exists`);
    state.applicationId = existing.id;
    return existing.id;
  }
  const { createApplication } = await client.ok<{ createApplication: { id: string } }>(
    `mutation($input: CreateApplicationInput!) { createApplication(input: $input) { id } }`,
    { input: { name: DEMO.application } },
    token,
  );
  log(`application "${DEMO.application}" (${createApplication.id}): created`);
  state.applicationId = createApplication.id;
  return createApplication.id;
}

/** The key of an earlier start while it is active, else a new one. */
async function ensureKey(
  client: GraphQlClient,
  token: string,
  applicationId: string,
  state: DemoState,
  log: (line: string) => void,
): Promise<{ keyId: string; key: string }> {
  if (state.keyId && state.key) {
    const { apiKeys } = await client.ok<{ apiKeys: { keyId: string; status: string }[] }>(
      `query($app: ID!) { apiKeys(applicationId: $app) { keyId status } }`,
      { app: applicationId },
      token,
    );
    if (apiKeys.some((k) => k.keyId === state.keyId && k.status === 'ACTIVE')) {
      log(`API key ${state.keyId}: still active, kept`);
      return { keyId: state.keyId, key: state.key };
    }
  }
  const { generateApiKey } = await client.ok<{ generateApiKey: { keyId: string; key: string } }>(
    `mutation($app: ID!) { generateApiKey(applicationId: $app) { keyId key } }`,
    { app: applicationId },
    token,
  );
  log(`API key ${generateApiKey.keyId}: generated for "${DEMO.application}"`);
  state.keyId = generateApiKey.keyId;
  state.key = generateApiKey.key;
  return generateApiKey;
}

function readState(file: string): DemoState {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoState) : {};
}

function writeState(file: string, state: DemoState): void {
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
