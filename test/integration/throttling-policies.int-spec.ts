import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane } from '../support/control-plane';
import { TestDatabase } from '../support/databases';
import { eventually } from '../support/gateway';

const ADMIN = { username: 'tier-admin', password: 'a long enough admin password' };

/**
 * The default tiers are seeded once per installation: one that an operator
 * deleted stays deleted when the control plane starts again (the seeding
 * runs at every start, and a deleted tier's name may be created again).
 */
describe('the default throttling policies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apim-tiers-'));
  const logFile = join(dir, 'cp.log');
  let db: TestDatabase;
  let cp: ControlPlane;

  beforeAll(async () => {
    db = await TestDatabase.create('cp_tiers');
    // A DC id of this file's own, as other files' control planes share the cluster.
    cp = new ControlPlane(db, logFile, {
      DC_ID: `t${randomBytes(3).toString('hex')}`,
      APIM_ADMIN_USER: ADMIN.username,
      APIM_ADMIN_PASSWORD: ADMIN.password,
    });
    await cp.start();
  });

  afterAll(async () => {
    await cp?.process.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const bootstraps = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"msg":"bootstrap done"')).length;
  const tierNames = async (token: string) =>
    (await cp.ok(`{ throttlingPolicies { name } }`, {}, token)).throttlingPolicies.map((p: { name: string }) => p.name);

  it('stay deleted across a restart once an operator deleted one', async () => {
    const admin = await eventually(() => cp.login(ADMIN.username, ADMIN.password), 60_000);
    await eventually(async () => expect(await tierNames(admin)).toEqual(['Bronze', 'Silver', 'Gold', 'Unlimited']), 30_000);
    expect((await cp.ok(`mutation { deleteThrottlingPolicy(name: "Bronze") }`, {}, admin)).deleteThrottlingPolicy).toBe(true);
    await eventually(async () => expect(await tierNames(admin)).toEqual(['Silver', 'Gold', 'Unlimited']), 30_000);

    await cp.process.stop();
    await cp.start();
    await eventually(async () => expect(bootstraps()).toBe(2), 60_000);
    const again = await eventually(() => cp.login(ADMIN.username, ADMIN.password), 60_000);
    expect(await tierNames(again)).toEqual(['Silver', 'Gold', 'Unlimited']);
    const offering = await cp.gql(
      `mutation($input: CreateApiInput!) { createApi(input: $input) { id } }`,
      { input: { name: 'Bronze only', version: 'v1', context: '/bronze-only', upstreamUrls: ['http://127.0.0.1:9/'], tiers: ['Bronze'] } },
      again,
    );
    expect(offering.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: ['tiers'] });
  });
});
