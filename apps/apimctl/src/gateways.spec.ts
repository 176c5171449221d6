import { GatewayAnswer, GatewayRow, renderGateways } from './gateways';

const gateway = (id: string, dc: string, digest: string, lag = 0, status = 'LIVE'): GatewayRow => ({
  id,
  dc,
  version: '0.1.0',
  status,
  state: lag === 0 ? 'ready' : 'catching-up',
  lag,
  digest,
  lastEventAt: '2026-12-03T10:00:00.000Z',
  lastSeen: '2026-12-03T10:00:01.000Z',
});
const dc = (name: string, gateways: GatewayRow[]): GatewayAnswer => ({
  dc: name,
  url: `http://${name}`,
  reachable: true,
  data: { gateways },
});
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('apimctl gateways', () => {
  it('lists every gateway of every DC, and says when the caught-up live ones route alike', () => {
    const text = renderGateways([
      dc('dc1', [gateway('gw-1', 'dc1', A), gateway('gw-2', 'dc1', B, 12)]),
      dc('dc2', [gateway('gw-3', 'dc2', A)]),
    ]);
    expect(text.split('\n')[0]).toMatch(/^DC\s+GATEWAY\s+VERSION\s+STATUS\s+STATE\s+LAG\s+DIGEST\s+LAST EVENT\s+LAST SEEN$/);
    expect(text).toMatch(/^dc1\s+gw-2\s+0\.1\.0\s+LIVE\s+catching-up\s+12\s+bbbbbbbbbbbb\s/m);
    // gw-2 is still catching up: it does not count against the others.
    expect(text).toMatch(/2 live gateway\(s\) caught up, all with one routing table$/);
  });

  it('names the groups when caught-up gateways route differently, leaves gone ones out of the count, and shows an unreachable DC', () => {
    const text = renderGateways([
      dc('dc1', [gateway('gw-1', 'dc1', A), gateway('gw-old', 'dc1', B, 0, 'GONE')]),
      dc('dc2', [gateway('gw-3', 'dc2', B)]),
      { dc: 'dc3', url: 'http://dc3', reachable: false, error: 'connection refused' },
    ]);
    expect(text).toMatch(/2 live gateways caught up, with 2 different routing tables: aaaaaaaaaaaa \(gw-1\); bbbbbbbbbbbb \(gw-3\)$/);
    expect(text).toMatch(/^dc3\s+-\s+-\s+UNREACHABLE\s.*connection refused$/m);
  });
});
