import { askAll, ControlPlaneClient, EXIT } from './control-planes';

export interface RegionRow {
  dc: string;
  role: string;
  epoch: number;
  local: boolean;
  fenced: boolean;
  /** A fenced primary's successor in a switchover. */
  switchoverTo?: string | null;
  replication: { state: string; records: number; ms: number; lastSeen: string } | null;
  /** Mirrored records of the peer this DC's importer has not read yet; null without a recent report. */
  importer?: { records: number; lastSeen: string } | null;
}

/** What one DC's control plane says, or why it could not be asked. */
export interface DcStatus {
  dc: string;
  url: string;
  reachable: boolean;
  error?: string;
  regions?: RegionRow[];
  gateways?: { live: number; gone: number; maxLag: number };
}

/** The fields of `regions` every command reads (RegionRow). */
export const REGIONS = `regions { dc role epoch local fenced switchoverTo replication { state records ms lastSeen } importer { records lastSeen } }`;

const QUERY = `{
  ${REGIONS}
  gateways { status lag }
}`;

/** Asks every control plane at once; an unreachable one is a row, not a failure. */
export async function fetchStatus(clients: ControlPlaneClient[]): Promise<DcStatus[]> {
  const answers = await askAll<{ regions: RegionRow[]; gateways: { status: string; lag: number }[] }>(clients, QUERY);
  return answers.map((answer): DcStatus => {
    if (!answer.reachable) return answer;
    const live = answer.data.gateways.filter((g) => g.status === 'LIVE');
    return {
      dc: answer.dc,
      url: answer.url,
      reachable: true,
      regions: answer.data.regions,
      gateways: { live: live.length, gone: answer.data.gateways.length - live.length, maxLag: Math.max(0, ...live.map((g) => g.lag)) },
    };
  });
}

/** Exit code and problem of a status: unreachable DCs first, then disagreement on primary or epoch. */
export function verdict(statuses: DcStatus[]): { exitCode: number; problem?: string } {
  const down = statuses.filter((s) => !s.reachable);
  if (down.length > 0) return { exitCode: EXIT.unreachable, problem: `unreachable: ${down.map((s) => s.dc).join(', ')}` };
  const views = statuses.map((s) => {
    const self = s.regions!.find((r) => r.local);
    const primary = s.regions!.find((r) => r.role === 'PRIMARY')?.dc ?? 'active-active';
    return { dc: s.dc, primary, epoch: self?.epoch ?? 0 };
  });
  const distinct = new Set(views.map((v) => `${v.primary}@${v.epoch}`));
  if (distinct.size > 1)
    return {
      exitCode: EXIT.disagree,
      problem: `the DCs disagree: ${views.map((v) => `${v.dc} sees primary ${v.primary} in epoch ${v.epoch}`).join('; ')}`,
    };
  return { exitCode: EXIT.ok };
}

export function renderStatus(statuses: DcStatus[]): string {
  const rows = statuses.map((s) => {
    if (!s.reachable) return [s.dc, 'UNREACHABLE', '-', '-', '-', '-', s.error ?? ''];
    const self = s.regions!.find((r) => r.local)!;
    const lags = s.regions!.filter((r) => !r.local).map((r) => `${r.dc}: ${formatLag(r.replication)}`);
    const gateways = `${s.gateways!.live} live, ${s.gateways!.gone} gone`;
    return [
      s.dc,
      self.role + (self.fenced ? ' (fenced)' : ''),
      String(self.epoch),
      lags.join('; ') || '-',
      gateways,
      String(s.gateways!.maxLag),
      s.url,
    ];
  });
  return table(['DC', 'ROLE', 'EPOCH', 'BEHIND PEERS', 'GATEWAYS', 'GW LAG', 'CONTROL PLANE'], rows);
}

export function renderLag(statuses: DcStatus[]): string {
  const rows: string[][] = [];
  for (const s of statuses) {
    if (!s.reachable) {
      rows.push([s.dc, '-', 'UNREACHABLE', '-', '-', '-', '-']);
      continue;
    }
    for (const region of s.regions!.filter((r) => !r.local)) {
      const lag = region.replication;
      rows.push([
        s.dc,
        region.dc,
        lag?.state ?? 'no heartbeat yet',
        lag ? String(lag.records) : '-',
        lag ? String(lag.ms) : '-',
        lag?.lastSeen ?? '-',
        region.importer ? String(region.importer.records) : 'no report',
      ]);
    }
  }
  return table(['DC', 'BEHIND', 'STATE', 'RECORDS', 'MS', 'LAST HEARTBEAT', 'NOT IMPORTED'], rows);
}

function formatLag(lag: RegionRow['replication']): string {
  if (!lag) return 'no heartbeat yet';
  return lag.state === 'mirroring' ? `${lag.records} rec / ${lag.ms} ms` : `${lag.state}, ${lag.records} rec / ${lag.ms} ms`;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
