import { randomBytes } from 'node:crypto';
import { eventually } from '../support/gateway';
import { ADMIN, apimctl, Dc, twoDcSpec, TwoDcWorld } from '../support/two-dc';

/** Read models compared row for row between the DCs (telemetry tables such as rm_gateways are each DC's own). */
const READ_MODELS = [
  'rm_apis',
  'rm_policies',
  'rm_applications',
  'rm_subscriptions',
  'rm_api_keys',
  'rm_oauth_clients',
  'rm_users',
  'rm_signing_keys',
  'rm_revoked_tokens',
  'api_contexts',
];
const ANY_PATH_NO_AUTH = [{ method: '*', path: '/*', auth: 'none' }];

/**
 * Two DCs in active-active mode: both take writes, each aggregate is written
 * only in its home DC, and cross-DC uniqueness clashes are resolved alike in
 * both, by the first claim.
 */
describe('two DCs, active-active', () => {
  const { world, upstream, passed } = twoDcSpec('aadc', 3, { REPLICATION_MODE: 'active-active' });
  const run = randomBytes(3).toString('hex');
  const tokens = {} as Record<Dc, string>;

  beforeAll(async () => {
    // dc1 seeds the admin (one seeding DC: seeded twice it would be a clash); dc2 gets it by replication.
    tokens.dc1 = await world.cps.dc1.login(ADMIN.username, ADMIN.password);
    tokens.dc2 = await world.loginWhenReplicated('dc2', ADMIN.username, ADMIN.password);
  }, 240_000);

  it('converges: concurrent writes in both DCs on different aggregates give identical stores and read models, row for row', async () => {
    const work = (dc: Dc) => async () => {
      const cp = world.cps[dc];
      const apis: string[] = [];
      for (let i = 0; i < 8; i++) {
        const { createApi } = await cp.ok(
          `mutation($input: CreateApiInput!) { createApi(input: $input) { id homeDc } }`,
          { input: { name: `${dc} API ${i}`, version: 'v1', context: `/${dc}-${run}-${i}`, upstreamUrls: [upstream().url] } },
          tokens[dc],
        );
        expect(createApi.homeDc).toBe(dc);
        await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: createApi.id }, tokens[dc]);
        apis.push(createApi.id);
      }
      const developer = await cp.signUp(`dev-${dc}-${run}`, 'a developer password');
      for (let i = 0; i < 3; i++) {
        const { createApplication } = await cp.ok(
          `mutation($name: String!) { createApplication(input: { name: $name }) { id } }`,
          { name: `${dc} app ${i}` },
          developer,
        );
        await cp.ok(
          `mutation($app: ID!, $api: ID!) { subscribe(applicationId: $app, apiId: $api, tier: "Gold") { id } }`,
          { app: createApplication.id, api: apis[i] },
          developer,
        );
        await cp.ok(`mutation($app: ID!) { generateApiKey(applicationId: $app) { key } }`, { app: createApplication.id }, developer);
      }
      return apis;
    };
    const [apis1] = await Promise.all([work('dc1')(), work('dc2')()]);

    await world.eventuallyEqualEvents();
    for (const table of READ_MODELS) await world.eventuallyEqual(table, `SELECT * FROM ${table} ORDER BY 1`);
    expect(await count(world, 'dc2', `SELECT count(*)::int AS n FROM rm_apis WHERE home_dc = 'dc1' AND id = ANY($1)`, [apis1])).toBe(8);
    expect(await count(world, 'dc1', `SELECT count(*)::int AS n FROM conflicts`)).toBe(0);
    passed();
  }, 240_000);

  it('refuses a mutation of an aggregate homed in the other DC with WRONG_REGION naming its home, and changes nothing', async () => {
    const { dc1, dc2 } = world.cps;
    const { createApi } = await dc1.ok(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id revision } }`,
      { input: { name: 'Homed in dc1', version: 'v1', context: `/homed-${run}`, upstreamUrls: [upstream().url] } },
      tokens.dc1,
    );
    await eventually(async () => expect(await dc2.apiFields(tokens.dc2, 'name')).toContain('Homed in dc1'), 60_000, 250);
    const refused = await dc2.gql(
      `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
      { id: createApi.id, input: { name: 'Renamed in dc2' } },
      tokens.dc2,
    );
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'WRONG_REGION', home: 'dc1' });
    // Sent to its home, the same mutation succeeds and reaches dc2.
    await dc1.ok(
      `mutation($id: ID!, $input: UpdateApiInput!) { updateApi(id: $id, input: $input) { id } }`,
      { id: createApi.id, input: { name: 'Renamed in dc1' } },
      tokens.dc1,
    );
    await eventually(async () => expect(await dc2.apiFields(tokens.dc2, 'name')).toContain('Renamed in dc1'), 60_000, 250);
    expect(await dc2.apiFields(tokens.dc2, 'name')).not.toContain('Renamed in dc2');
    passed();
  }, 120_000);

  it('both DCs claiming one API context and version, and one username, at once: one listed conflict each, the same winner in both DCs and at both gateways', async () => {
    const gateways = { dc1: await world.startGateway('dc1', 'gw1'), dc2: await world.startGateway('dc2', 'gw2') };
    // Cut the DCs apart so that both claims are accepted locally, as they would be at the same instant.
    await Promise.all([world.replicators.dc1.process.stop(10_000), world.replicators.dc2.process.stop(10_000)]);
    const context = `/clash-${run}`;
    const username = `clash-${run}`;
    const ids = {} as Record<Dc, string>;
    for (const dc of ['dc1', 'dc2'] as Dc[]) {
      const cp = world.cps[dc];
      const { createApi } = await cp.ok(
        `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
        {
          input: {
            name: `Clash from ${dc}`,
            version: 'v1',
            context,
            upstreamUrls: [`${upstream().url}/from-${dc}`],
            operations: ANY_PATH_NO_AUTH,
          },
        },
        tokens[dc],
      );
      await cp.ok(`mutation($id: ID!) { changeApiLifecycle(id: $id, action: PUBLISH) { state } }`, { id: createApi.id }, tokens[dc]);
      ids[dc] = createApi.id;
      await cp.signUp(username, `password of ${dc}`);
    }
    await Promise.all([world.startReplicator('dc1'), world.startReplicator('dc2')]);

    const listed = `{ conflicts { id kind key winner { id dc eventId } loser { id dc eventId } } }`;
    const conflicts = await eventually(
      async () => {
        const [{ conflicts: at1 }, { conflicts: at2 }] = await Promise.all([
          world.cps.dc1.ok(listed, {}, tokens.dc1),
          world.cps.dc2.ok(listed, {}, tokens.dc2),
        ]);
        expect(at1).toHaveLength(2);
        expect(sortById(at1)).toEqual(sortById(at2));
        return at1 as {
          kind: string;
          key: string;
          winner: { id: string; dc: string; eventId: string };
          loser: { id: string; dc: string; eventId: string };
        }[];
      },
      60_000,
      250,
    );
    const apiClash = conflicts.find((c) => c.kind === 'API_CONTEXT')!;
    expect(apiClash.key).toBe(`${context} v1`);
    expect([apiClash.winner.id, apiClash.loser.id].sort()).toEqual([ids.dc1, ids.dc2].sort());
    expect(apiClash.winner.eventId < apiClash.loser.eventId).toBe(true); // the first claim wins
    const userClash = conflicts.find((c) => c.kind === 'STREAM_ID')!;
    expect(userClash.key).toBe(`user:${username}`);
    expect(userClash.winner.eventId < userClash.loser.eventId).toBe(true);
    // The SRE's view: both clashes, each listed by both DCs with the same winner, and exit 0.
    const cli = await apimctl(world, ['conflicts']);
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    for (const clash of [apiClash, userClash])
      expect(cli.stdout).toMatch(
        new RegExp(`\\s${clash.winner.dc}: ${clash.winner.id}\\s+${clash.loser.dc}: ${clash.loser.id}\\s+dc1,dc2$`, 'm'),
      );
    expect(cli.stdout).toContain('2 conflict(s); asked dc1, dc2');

    // Both stores and read models agree; the winner's password logs in at both DCs, the loser's at neither.
    await world.eventuallyEqualEvents();
    for (const table of READ_MODELS) await world.eventuallyEqual(table, `SELECT * FROM ${table} ORDER BY 1`);
    for (const dc of ['dc1', 'dc2'] as Dc[]) {
      await world.cps[dc].login(username, `password of ${userClash.winner.dc}`);
      const loser = await world.cps[dc].gql(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`, {
        u: username,
        p: `password of ${userClash.loser.dc}`,
      });
      expect(loser.errors).toBeDefined();
    }

    // Both gateways route the context to the winning API (its upstream path says which).
    for (const dc of ['dc1', 'dc2'] as Dc[]) {
      await eventually(
        async () => {
          const response = await fetch(`${gateways[dc].url}${context}/v1/probe`);
          expect(response.status).toBe(200);
          expect(((await response.json()) as { url: string }).url).toBe(`/from-${apiClash.winner.dc}/probe`);
        },
        60_000,
        250,
      );
    }
    passed();
  }, 240_000);
});

async function count(world: TwoDcWorld, dc: Dc, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await world.query<{ n: number }>(dc, sql, params);
  return row.n;
}

function sortById<T extends { id: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
}
