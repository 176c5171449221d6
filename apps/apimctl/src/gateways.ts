import { Answer, askAll, ControlPlaneClient } from './control-planes';
import { table } from './status';

/** A gateway as its DC's control plane lists it (from its heartbeats). */
export interface GatewayRow {
  id: string;
  dc: string;
  version: string;
  status: string;
  state: string;
  lag: number;
  digest: string;
  lastEventAt: string | null;
  lastSeen: string;
}

export type GatewayAnswer = Answer<{ gateways: GatewayRow[] }>;

/** Every DC's gateways (each control plane lists its own DC's). */
export function fetchGateways(clients: ControlPlaneClient[], includeGone: boolean): Promise<GatewayAnswer[]> {
  return askAll(clients, `{ gateways(includeGone: ${includeGone}) { id dc version status state lag digest lastEventAt lastSeen } }`);
}

/**
 * One row per gateway, then whether the live, caught-up gateways route alike:
 * equal digests mean equal routing tables. A gateway still catching up, or a
 * DC behind its peers, may differ for a moment; one that stays apart while
 * caught up did not apply the same events (look at its log).
 */
export function renderGateways(answers: GatewayAnswer[]): string {
  const rows: string[][] = [];
  const caughtUp = new Map<string, string[]>();
  for (const answer of answers) {
    if (!answer.reachable) {
      rows.push([answer.dc, '-', '-', 'UNREACHABLE', '-', '-', '-', '-', answer.error]);
      continue;
    }
    for (const gw of answer.data.gateways) {
      rows.push([
        gw.dc,
        gw.id,
        gw.version,
        gw.status,
        gw.state,
        String(gw.lag),
        gw.digest.slice(0, 12),
        gw.lastEventAt ?? '-',
        gw.lastSeen,
      ]);
      if (gw.status === 'LIVE' && gw.lag === 0) caughtUp.set(gw.digest, [...(caughtUp.get(gw.digest) ?? []), gw.id]);
    }
  }
  const header = ['DC', 'GATEWAY', 'VERSION', 'STATUS', 'STATE', 'LAG', 'DIGEST', 'LAST EVENT', 'LAST SEEN'];
  const caught = [...caughtUp.values()].reduce((sum, ids) => sum + ids.length, 0);
  const summary =
    caughtUp.size <= 1
      ? `${caught} live gateway(s) caught up${caughtUp.size === 1 ? ', all with one routing table' : ''}`
      : `${caught} live gateways caught up, with ${caughtUp.size} different routing tables: ` +
        [...caughtUp].map(([digest, ids]) => `${digest.slice(0, 12)} (${ids.join(', ')})`).join('; ');
  return `${table(header, rows)}\n\n${summary}`;
}
