import { CtlError, EXIT, resolveCredentials, resolveEndpoints } from './control-planes';
import { DcStatus, RegionRow, verdict } from './status';

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
