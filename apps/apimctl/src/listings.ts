import { Answer, askEach, ControlPlaneClient, EXIT } from './control-planes';
import { table } from './status';

/**
 * A list every DC keeps of the same things, which the DCs should agree on
 * once replication has delivered everything: divergent events, conflicts.
 */
export interface Listing<Row> {
  /** The GraphQL field, also the key of its answer. */
  field: string;
  /** The selection of a row. */
  selection: string;
  /** What one row is, for messages: "divergent event". */
  noun: string;
  header: string[];
  /** The same thing in every DC's list has the same id. */
  idOf(row: Row): string;
  /** What the field's `after` takes to list the rows after this one. */
  cursorOf(row: Row): string;
  cells(row: Row): string[];
}

export type ListAnswer<Row> = Answer<Record<string, Row[]>>;

/**
 * The rows asked for per request. The control planes allow pages of 1000, but
 * price a query at its rows times its fields (5000 at most by default): 500
 * rows of the listings' 7 to 9 fields stay under that.
 */
export const LISTING_PAGE = 500;

/** Every DC's whole list, a page at a time. */
export function fetchListing<Row>(clients: ControlPlaneClient[], listing: Listing<Row>): Promise<ListAnswer<Row>[]> {
  const query = `query($after: ID) { ${listing.field}(first: ${LISTING_PAGE}, after: $after) { ${listing.selection} } }`;
  return askEach(clients, async (client) => {
    const rows: Row[] = [];
    for (let after: string | null = null; ;) {
      const page = (await client.request<Record<string, Row[]>>(query, { after }))[listing.field];
      rows.push(...page);
      if (page.length < LISTING_PAGE) return { [listing.field]: rows };
      after = listing.cursorOf(page[page.length - 1]);
    }
  });
}

/**
 * Unreachable DCs first; then DCs whose lists differ: what makes them travels
 * with replication, so the lists converge once every DC has imported it (run
 * the command again), and stay apart while a replicator is stuck.
 */
export function listingVerdict<Row>(answers: ListAnswer<Row>[], listing: Listing<Row>): { exitCode: number; problem?: string } {
  const down = answers.filter((a) => !a.reachable);
  if (down.length > 0) return { exitCode: EXIT.unreachable, problem: `unreachable: ${down.map((a) => a.dc).join(', ')}` };
  const lists = answers.map((a) => (a.reachable ? a.data[listing.field].map((row) => listing.idOf(row)).sort() : []));
  if (lists.some((list) => list.join() !== lists[0].join()))
    return {
      exitCode: EXIT.disagree,
      problem:
        `the DCs list different ${listing.noun}s (${answers.map((a, i) => `${a.dc}: ${lists[i].length}`).join(', ')}); ` +
        'they converge as replication delivers what makes them: look at apimctl lag, and run this again',
    };
  return { exitCode: EXIT.ok };
}

/** One row per thing, with the DCs that list it. */
export function renderListing<Row>(answers: ListAnswer<Row>[], listing: Listing<Row>): string {
  const byId = new Map<string, { row: Row; listedBy: string[] }>();
  for (const answer of answers) {
    if (!answer.reachable) continue;
    for (const row of answer.data[listing.field]) {
      const entry = byId.get(listing.idOf(row)) ?? { row, listedBy: [] };
      entry.listedBy.push(answer.dc);
      byId.set(listing.idOf(row), entry);
    }
  }
  const asked = answers.map((a) => (a.reachable ? a.dc : `${a.dc} (unreachable)`)).join(', ');
  if (byId.size === 0) return `no ${listing.noun}s (asked ${asked})`;
  const rows = [...byId.values()].map(({ row, listedBy }) => [...listing.cells(row), listedBy.join(',')]);
  return `${table([...listing.header, 'LISTED BY'], rows)}\n\n${byId.size} ${listing.noun}(s); asked ${asked}`;
}

/** An event of a fenced epoch, as `divergentEvents` lists it. */
export interface DivergentEventRow {
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  originDc: string;
  epoch: number;
  fencedInEpoch: number;
}

/** Events an old primary wrote after a failover's promotion point. */
export const DIVERGENT_EVENTS: Listing<DivergentEventRow> = {
  field: 'divergentEvents',
  selection: 'eventId streamId version type originDc epoch fencedInEpoch',
  noun: 'divergent event',
  header: ['EVENT', 'STREAM', 'VERSION', 'TYPE', 'ORIGIN', 'EPOCH', 'FENCED IN'],
  idOf: (row) => row.eventId,
  cursorOf: (row) => row.eventId,
  cells: (row) => [row.eventId, row.streamId, String(row.version), row.type, row.originDc, String(row.epoch), String(row.fencedInEpoch)],
};

/** A cross-DC uniqueness clash (active-active), as `conflicts` lists it. */
export interface ConflictRow {
  id: string;
  kind: string;
  key: string;
  winner: { id: string; dc: string };
  loser: { id: string; dc: string };
}

/** Clashes both DCs resolved by the same rule: the same id, winner and loser everywhere. */
export const CONFLICTS: Listing<ConflictRow> = {
  field: 'conflicts',
  selection: 'id kind key winner { id dc } loser { id dc }',
  noun: 'conflict',
  header: ['CONFLICT', 'KIND', 'KEY', 'WINNER', 'LOSER'],
  // The winner is part of the identity: two DCs that picked different winners disagree.
  idOf: (row) => `${row.id}/${row.winner.dc}:${row.winner.id}`,
  cursorOf: (row) => row.id,
  cells: (row) => [row.id, row.kind, row.key, `${row.winner.dc}: ${row.winner.id}`, `${row.loser.dc}: ${row.loser.id}`],
};
