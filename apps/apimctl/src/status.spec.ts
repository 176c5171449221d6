import { CtlError, EXIT, resolveCredentials, resolveEndpoints } from './control-planes';
import { DcStatus, RegionRow, renderLag, verdict } from './status';

const region = (dc: string, role: string, epoch: number, local: boolean): RegionRow => ({
  dc,
  role,
  epoch,
  local,
  fenced: false,
  replication: null,
});
const reachable = (dc: string, regions: RegionRow[]): DcStatus => ({
  dc,
  url: `http://${dc}`,
  reachable: true,
  regions,
  gateways: { live: 1, gone: 0, maxLag: 0 },
});

describe('apimctl status verdict', () => {
  it('is OK when every DC answers and they agree on the primary and the epoch', () => {
    const statuses = [
      reachable('dc1', [region('dc1', 'PRIMARY', 2, true), region('dc2', 'STANDBY', 2, false)]),
      reachable('dc2', [region('dc1', 'PRIMARY', 2, false), region('dc2', 'STANDBY', 2, true)]),
    ];
    expect(verdict(statuses)).toEqual({ exitCode: EXIT.ok });
  });

  it('names the unreachable DCs before anything else', () => {
    const statuses: DcStatus[] = [
      { dc: 'dc1', url: 'http://dc1', reachable: false, error: 'down' },
      reachable('dc2', [region('dc1', 'STANDBY', 2, false), region('dc2', 'PRIMARY', 2, true)]),
    ];
    expect(verdict(statuses)).toEqual({ exitCode: EXIT.unreachable, problem: 'unreachable: dc1' });
  });

  it('reports a split brain: two DCs that each see another primary or epoch', () => {
    const statuses = [
      reachable('dc1', [region('dc1', 'PRIMARY', 1, true), region('dc2', 'STANDBY', 1, false)]),
      reachable('dc2', [region('dc1', 'STANDBY', 2, false), region('dc2', 'PRIMARY', 2, true)]),
    ];
    const { exitCode, problem } = verdict(statuses);
    expect(exitCode).toBe(EXIT.disagree);
    expect(problem).toContain('dc1 sees primary dc1 in epoch 1; dc2 sees primary dc2 in epoch 2');
  });
});

describe('apimctl configuration', () => {
  it('reads endpoints from the flag first, then the environment', () => {
    expect([...resolveEndpoints('dc1=http://a:1/,dc2=https://b:2', { APIMCTL_ENDPOINTS: 'dc3=http://c:3' }, '/nowhere')]).toEqual([
      ['dc1', 'http://a:1'],
      ['dc2', 'https://b:2'],
    ]);
    expect([...resolveEndpoints(undefined, { APIMCTL_ENDPOINTS: 'dc3=http://c:3' }, '/nowhere')]).toEqual([['dc3', 'http://c:3']]);
  });

  it('refuses a malformed endpoint or missing credentials with the usage exit code', () => {
    const usage = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error instanceof CtlError ? error.exitCode : -1;
      }
      return 0;
    };
    expect(usage(() => resolveEndpoints('dc1:http://a', {}, '/nowhere'))).toBe(EXIT.usage);
    expect(usage(() => resolveEndpoints(undefined, {}, '/nowhere'))).toBe(EXIT.usage);
    expect(usage(() => resolveCredentials({ APIMCTL_USER: 'ops' }))).toBe(EXIT.usage);
  });
});

describe('apimctl lag', () => {
  it('shows, per DC and peer, the replication lag and what the importer has not read yet', () => {
    const peer = (dc: string, importer: RegionRow['importer']): RegionRow => ({
      ...region(dc, 'PRIMARY', 1, false),
      replication: { state: 'mirroring', records: 3, ms: 12, lastSeen: '2026-12-04T17:00:00.000Z' },
      importer,
    });
    const text = renderLag([
      reachable('dc2', [peer('dc1', { records: 7, lastSeen: '2026-12-04T17:00:01.000Z' }), region('dc2', 'STANDBY', 1, true)]),
      reachable('dc3', [peer('dc1', null), region('dc3', 'STANDBY', 1, true)]),
      { dc: 'dc4', url: 'http://dc4', reachable: false, error: 'down' },
    ]);
    expect(text.split('\n')[0]).toMatch(/^DC\s+BEHIND\s+STATE\s+RECORDS\s+MS\s+LAST HEARTBEAT\s+NOT IMPORTED$/);
    expect(text).toMatch(/^dc2\s+dc1\s+mirroring\s+3\s+12\s+2026-12-04T17:00:00.000Z\s+7$/m);
    expect(text).toMatch(/^dc3\s+dc1\s+mirroring\s+3\s+12\s+\S+\s+no report$/m);
    expect(text).toMatch(/^dc4\s+-\s+UNREACHABLE\s/m);
  });
});
