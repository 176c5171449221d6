import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ControlPlaneClient, EXIT } from './control-planes';
import {
  CONFLICTS,
  ConflictRow,
  DIVERGENT_EVENTS,
  DivergentEventRow,
  fetchListing,
  LISTING_PAGE,
  ListAnswer,
  listingVerdict,
  renderListing,
} from './listings';

const event = (eventId: string, streamId = 'api-1'): DivergentEventRow => ({
  eventId,
  streamId,
  version: 2,
  type: 'api.updated',
  originDc: 'dc1',
  epoch: 1,
  fencedInEpoch: 2,
});
function listing<Row>(field: string, dc: string, rows: Row[]): ListAnswer<Row> {
  return { dc, url: `http://${dc}`, reachable: true, data: { [field]: rows } };
}
const divergent = (dc: string, events: DivergentEventRow[]) => listing('divergentEvents', dc, events);

describe('apimctl divergent', () => {
  it('is OK when every DC lists the same events, in any order, and shows each once with the DCs that list it', () => {
    const answers = [divergent('dc1', [event('e1'), event('e2', 'api-2')]), divergent('dc2', [event('e2', 'api-2'), event('e1')])];
    expect(listingVerdict(answers, DIVERGENT_EVENTS)).toEqual({ exitCode: EXIT.ok });
    const text = renderListing(answers, DIVERGENT_EVENTS);
    expect(text.split('\n')[0]).toMatch(/^EVENT\s+STREAM\s+VERSION\s+TYPE\s+ORIGIN\s+EPOCH\s+FENCED IN\s+LISTED BY$/);
    expect(text).toMatch(/^e1\s+api-1\s+2\s+api\.updated\s+dc1\s+1\s+2\s+dc1,dc2$/m);
    expect(text).toMatch(/^e2\s+api-2\s/m);
    expect(text).toMatch(/2 divergent event\(s\); asked dc1, dc2$/);
  });

  it('says so when there are none', () => {
    const answers = [divergent('dc1', []), divergent('dc2', [])];
    expect(listingVerdict(answers, DIVERGENT_EVENTS)).toEqual({ exitCode: EXIT.ok });
    expect(renderListing(answers, DIVERGENT_EVENTS)).toBe('no divergent events (asked dc1, dc2)');
  });

  it('names lists that differ (not converged yet), and unreachable DCs before that', () => {
    const apart = [divergent('dc1', [event('e1')]), divergent('dc2', [])];
    expect(listingVerdict(apart, DIVERGENT_EVENTS)).toEqual({
      exitCode: EXIT.disagree,
      problem: expect.stringMatching(/different divergent events \(dc1: 1, dc2: 0\)/),
    });
    expect(renderListing(apart, DIVERGENT_EVENTS)).toMatch(/^e1\s.*\sdc1$/m);
    const down: ListAnswer<DivergentEventRow>[] = [
      divergent('dc1', [event('e1')]),
      { dc: 'dc2', url: 'http://dc2', reachable: false, error: 'refused' },
    ];
    expect(listingVerdict(down, DIVERGENT_EVENTS)).toEqual({ exitCode: EXIT.unreachable, problem: 'unreachable: dc2' });
    expect(renderListing(down, DIVERGENT_EVENTS)).toMatch(/asked dc1, dc2 \(unreachable\)$/);
  });
});

describe('apimctl conflicts', () => {
  const clash = (winnerDc: string): ConflictRow => ({
    id: 'c-1',
    kind: 'API_CONTEXT',
    key: '/pay/v1',
    winner: { id: `api-${winnerDc}`, dc: winnerDc },
    loser: { id: `api-${winnerDc === 'dc1' ? 'dc2' : 'dc1'}`, dc: winnerDc === 'dc1' ? 'dc2' : 'dc1' },
  });

  it('shows each clash with its winner and loser, and is OK when both DCs name the same winner', () => {
    const answers = [listing('conflicts', 'dc1', [clash('dc1')]), listing('conflicts', 'dc2', [clash('dc1')])];
    expect(listingVerdict(answers, CONFLICTS)).toEqual({ exitCode: EXIT.ok });
    expect(renderListing(answers, CONFLICTS)).toMatch(/^c-1\s+API_CONTEXT\s+\/pay\/v1\s+dc1: api-dc1\s+dc2: api-dc2\s+dc1,dc2$/m);
  });

  it('reports DCs that picked different winners for one clash', () => {
    const answers = [listing('conflicts', 'dc1', [clash('dc1')]), listing('conflicts', 'dc2', [clash('dc2')])];
    expect(listingVerdict(answers, CONFLICTS).exitCode).toBe(EXIT.disagree);
    expect(
      renderListing(answers, CONFLICTS)
        .split('\n')
        .filter((line) => line.startsWith('c-1')),
    ).toHaveLength(2);
  });
});

describe('fetchListing', () => {
  let server: Server;
  let url: string;
  const requests: { after: string | null; first: string | undefined }[] = [];
  // A control plane's GraphQL over a real socket, holding more divergent events than one page.
  const events = Array.from({ length: LISTING_PAGE * 2 + 5 }, (_, i) => event(`e${String(i).padStart(5, '0')}`));

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { query, variables } = JSON.parse(body) as { query: string; variables: { after?: string | null } };
        res.setHeader('content-type', 'application/json');
        if (query.includes('login')) return res.end(JSON.stringify({ data: { login: { accessToken: 'token' } } }));
        const first = /first: (\d+)/.exec(query)?.[1];
        requests.push({ after: variables.after ?? null, first });
        const start = variables.after ? events.findIndex((e) => e.eventId === variables.after) + 1 : 0;
        res.end(JSON.stringify({ data: { divergentEvents: events.slice(start, start + Number(first)) } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads a whole list a page at a time, each page after the last row of the one before', async () => {
    const client = new ControlPlaneClient('dc1', url, { username: 'ops', password: 'secret-password' }, 5000);
    const [answer] = await fetchListing([client], DIVERGENT_EVENTS);
    expect(answer.reachable && answer.data.divergentEvents.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    expect(requests).toEqual([
      { after: null, first: String(LISTING_PAGE) },
      { after: events[LISTING_PAGE - 1].eventId, first: String(LISTING_PAGE) },
      { after: events[LISTING_PAGE * 2 - 1].eventId, first: String(LISTING_PAGE) },
    ]);
  });
});
