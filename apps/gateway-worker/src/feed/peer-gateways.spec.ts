import { GATEWAY_HEARTBEAT, GatewayHeartbeat } from '@apim/events';
import { PeerGateways } from './peer-gateways';

function beat(gatewayId: string, atMs: number, state = 'ready', dc = 'dc1'): GatewayHeartbeat {
  return {
    kind: GATEWAY_HEARTBEAT,
    gatewayId,
    dc,
    version: '1',
    state,
    startedAt: new Date(0).toISOString(),
    at: new Date(atMs).toISOString(),
    positions: [],
    lag: 0,
    digest: '0'.repeat(64),
    lastEventAt: null,
  };
}

describe('the gateways that share a DC’s rate limits', () => {
  let now: number;
  let changes: number[];
  let peers: PeerGateways;

  beforeEach(() => {
    now = 100_000;
    changes = [];
    peers = new PeerGateways({ dc: 'dc1', gatewayId: 'me', timeoutMs: 15_000, onChange: (n) => changes.push(n), now: () => now });
  });

  it('counts this gateway and the others of its DC that serve, not other DCs nor itself twice', () => {
    expect(peers.count).toBe(1);
    peers.observe(beat('a', now));
    peers.observe(beat('b', now, 'degraded'));
    peers.observe(beat('me', now));
    peers.observe(beat('c', now, 'ready', 'dc2'));
    peers.observe(beat('d', now, 'catching-up'));
    expect(peers.count).toBe(3);
    expect(changes).toEqual([2, 3]);
  });

  it('lets a gateway go at once when it stops serving, and a silent one after the timeout', () => {
    peers.observe(beat('a', now));
    peers.observe(beat('b', now));
    peers.observe(beat('a', now + 1000, 'stopped'));
    expect(peers.count).toBe(2);
    now += 15_001;
    peers.answered();
    expect(peers.count).toBe(1);
    expect(changes).toEqual([2, 3, 2, 1]);
  });

  it('keeps the count while Kafka does not answer, and ignores a heartbeat older than one it has', () => {
    peers.observe(beat('a', now));
    now += 60_000;
    peers.recount();
    expect(peers.count).toBe(2);
    peers.observe(beat('a', now - 61_000, 'stopped'));
    expect(peers.count).toBe(2);
  });

  it('does not count a heartbeat from the future ahead of now', () => {
    peers.observe(beat('a', now + 3_600_000));
    now += 15_001;
    peers.answered();
    expect(peers.count).toBe(1);
  });
});
