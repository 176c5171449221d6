import { Answer, askAll, ControlPlaneClient, EXIT } from './control-planes';
import { table } from './status';

/** An event of a fenced epoch, as `divergentEvents` lists it. */
export interface DivergentEventRow {
  eventId: string;
  streamId: string;
  version: number;
  type: string;
  originDc: string;
  epoch: number;
  fencedInEpoch: number;
  reason: string;
  recordedAt: string;
}

export type Divergence = Answer<{ divergentEvents: DivergentEventRow[] }>;

const QUERY = `{ divergentEvents { eventId streamId version type originDc epoch fencedInEpoch reason recordedAt } }`;

/** Every DC's list of divergent events (the events an old primary wrote after the promotion point). */
export function fetchDivergence(clients: ControlPlaneClient[]): Promise<Divergence[]> {
  return askAll(clients, QUERY);
}

/**
 * Unreachable DCs first; then DCs that list different events: the verdicts
 * travel with replication, so the lists converge once every DC has imported
 * them (run it again), and stay apart while a replicator is stuck.
 */
export function divergenceVerdict(answers: Divergence[]): { exitCode: number; problem?: string } {
  const down = answers.filter((a) => !a.reachable);
  if (down.length > 0) return { exitCode: EXIT.unreachable, problem: `unreachable: ${down.map((a) => a.dc).join(', ')}` };
  const lists = answers.map((a) => (a.reachable ? a.data.divergentEvents.map((e) => e.eventId).sort() : []));
  if (lists.some((list) => list.join() !== lists[0].join()))
    return {
      exitCode: EXIT.disagree,
      problem:
        `the DCs list different divergent events (${answers.map((a, i) => `${a.dc}: ${lists[i].length}`).join(', ')}); ` +
        'they converge as replication delivers the verdicts: look at apimctl lag, and run this again',
    };
  return { exitCode: EXIT.ok };
}

/** One row per event, with the DCs that list it. */
export function renderDivergence(answers: Divergence[]): string {
  const byId = new Map<string, { event: DivergentEventRow; listedBy: string[] }>();
  for (const answer of answers) {
    if (!answer.reachable) continue;
    for (const event of answer.data.divergentEvents) {
      const entry = byId.get(event.eventId) ?? { event, listedBy: [] };
      entry.listedBy.push(answer.dc);
      byId.set(event.eventId, entry);
    }
  }
  const asked = answers.map((a) => (a.reachable ? a.dc : `${a.dc} (unreachable)`)).join(', ');
  if (byId.size === 0) return `no divergent events (asked ${asked})`;
  const rows = [...byId.values()].map(({ event, listedBy }) => [
    event.eventId,
    event.streamId,
    String(event.version),
    event.type,
    event.originDc,
    String(event.epoch),
    String(event.fencedInEpoch),
    listedBy.join(','),
  ]);
  return `${table(['EVENT', 'STREAM', 'VERSION', 'TYPE', 'ORIGIN', 'EPOCH', 'FENCED IN', 'LISTED BY'], rows)}\n\n${byId.size} divergent event(s); asked ${asked}`;
}
