import { mkdirSync, openSync, closeSync, fsyncSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RoutingTableState } from '../routing/routing-table';
import type { FencesState } from './fences';

/** Next offset to read, per topic and partition. */
export type Positions = Record<string, Record<string, string>>;

/** What the snapshot file holds: the table and the offsets it reflects, consistent with each other. */
export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  dc: string;
  gatewayId: string;
  writtenAt: string;
  positions: Positions;
  table: RoutingTableState;
  /** What this gateway knows of fenced epochs (absent in snapshots of older gateways). */
  fences?: FencesState;
}

const SNAPSHOT_FORMAT = 'apim-gateway-snapshot/1';

/**
 * The gateway's local snapshot file. Written to a temporary file, fsynced and
 * renamed over the old one, so a crash mid-write leaves the previous snapshot
 * whole. A file of another format or another DC is refused with the reason,
 * and the gateway rebuilds from Kafka instead.
 */
export class SnapshotStore {
  constructor(
    readonly file: string,
    private readonly dc: string,
  ) {}

  exists(): boolean {
    return existsSync(this.file);
  }

  load(): { snapshot: Snapshot } | { refused: string } {
    let parsed: Partial<Snapshot>;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<Snapshot>;
    } catch (error) {
      return { refused: `snapshot ${this.file} is unreadable: ${(error as Error).message}` };
    }
    if (parsed.format !== SNAPSHOT_FORMAT) return { refused: `snapshot ${this.file} is not in format ${SNAPSHOT_FORMAT}` };
    if (parsed.dc !== this.dc) return { refused: `snapshot ${this.file} belongs to DC ${String(parsed.dc)}, not ${this.dc}` };
    if (!parsed.table || !parsed.positions) return { refused: `snapshot ${this.file} lacks its table or positions` };
    return { snapshot: parsed as Snapshot };
  }

  /** Writes atomically; returns the size in bytes. */
  save(snapshot: Omit<Snapshot, 'format' | 'dc'>): number {
    mkdirSync(dirname(this.file), { recursive: true });
    const text = JSON.stringify({ format: SNAPSHOT_FORMAT, dc: this.dc, ...snapshot });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    const fd = openSync(temporary, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
    return Buffer.byteLength(text);
  }
}
