import { EXIT } from './control-planes';
import { Divergence, divergenceVerdict, DivergentEventRow, renderDivergence } from './divergent';

const event = (eventId: string, streamId = 'api-1'): DivergentEventRow => ({
  eventId,
  streamId,
  version: 2,
  type: 'api.updated',
  originDc: 'dc1',
  epoch: 1,
  fencedInEpoch: 2,
  reason: 'written by dc1 in epoch 1 after dc2 was promoted',
  recordedAt: '2026-12-03T10:00:00.000Z',
});
const listing = (dc: string, events: DivergentEventRow[]): Divergence => ({
  dc,
  url: `http://${dc}`,
  reachable: true,
  data: { divergentEvents: events },
});

describe('apimctl divergent', () => {
  it('is OK when every DC lists the same events, in any order, and shows each once with the DCs that list it', () => {
    const answers = [listing('dc1', [event('e1'), event('e2', 'api-2')]), listing('dc2', [event('e2', 'api-2'), event('e1')])];
    expect(divergenceVerdict(answers)).toEqual({ exitCode: EXIT.ok });
    const text = renderDivergence(answers);
    expect(text.split('\n')[0]).toMatch(/^EVENT\s+STREAM\s+VERSION\s+TYPE\s+ORIGIN\s+EPOCH\s+FENCED IN\s+LISTED BY$/);
    expect(text).toMatch(/^e1\s+api-1\s+2\s+api\.updated\s+dc1\s+1\s+2\s+dc1,dc2$/m);
    expect(text).toMatch(/^e2\s+api-2\s/m);
    expect(text).toMatch(/2 divergent event\(s\); asked dc1, dc2$/);
  });

  it('says so when there are none', () => {
    const answers = [listing('dc1', []), listing('dc2', [])];
    expect(divergenceVerdict(answers)).toEqual({ exitCode: EXIT.ok });
    expect(renderDivergence(answers)).toBe('no divergent events (asked dc1, dc2)');
  });

  it('names lists that differ (not converged yet), and unreachable DCs before that', () => {
    const apart = [listing('dc1', [event('e1')]), listing('dc2', [])];
    expect(divergenceVerdict(apart)).toEqual({ exitCode: EXIT.disagree, problem: expect.stringMatching(/dc1: 1, dc2: 0/) });
    expect(renderDivergence(apart)).toMatch(/^e1\s.*\sdc1$/m);
    const down: Divergence[] = [listing('dc1', [event('e1')]), { dc: 'dc2', url: 'http://dc2', reachable: false, error: 'refused' }];
    expect(divergenceVerdict(down)).toEqual({ exitCode: EXIT.unreachable, problem: 'unreachable: dc2' });
    expect(renderDivergence(down)).toMatch(/asked dc1, dc2 \(unreachable\)$/);
  });
});
