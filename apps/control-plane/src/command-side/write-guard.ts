import { Injectable } from '@nestjs/common';
import { REGION_STREAM_ID, regionDecider, RegionState } from '@apim/domain';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { Queryable } from '../infrastructure/event-store/event-store';
import { PostgresEventStore } from '../infrastructure/event-store/postgres-event-store';
import { foldStream } from './fold-stream';

/**
 * A mutation refused because of where it was sent, naming where to send it:
 * `READ_ONLY_REGION` (a standby or fenced primary) names the primary,
 * `WRONG_REGION` (active-active: the aggregate is homed elsewhere) its home.
 */
export class RegionError extends Error {
  constructor(
    readonly code: 'READ_ONLY_REGION' | 'WRONG_REGION',
    message: string,
    /** The primary (READ_ONLY_REGION) or the aggregate's home DC (WRONG_REGION). */
    readonly sendTo: string,
  ) {
    super(message);
    this.name = 'RegionError';
  }
}

/** What this DC knows of the topology: who is primary, in which epoch, and whether it was fenced. */
export interface RegionView extends RegionState {
  /** The primary, or the configured initial one while nobody has been promoted yet. */
  effectivePrimary: string;
  writable: boolean;
  activeActive: boolean;
}

/** The advisory lock key that orders writes against fences and promotions ('apim' in ASCII). */
const REGION_LOCK_KEY = 0x6170696d;

/**
 * Decides whether this DC may take writes now, and in which epoch. Reads the
 * region stream on each call: it is tiny, and a promotion imported from a
 * peer must take effect on the very next mutation.
 */
@Injectable()
export class WriteGuard {
  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly store: PostgresEventStore,
  ) {}

  get dc(): string {
    return this.config.DC_ID;
  }

  async region(tx?: Queryable): Promise<RegionView> {
    const events = await this.store.readStream(REGION_STREAM_ID, tx);
    const state = foldStream(regionDecider, events);
    const effectivePrimary = state.primary ?? this.config.initialPrimary;
    const activeActive = this.config.REPLICATION_MODE === 'active-active';
    const writable = activeActive || (effectivePrimary === this.dc && !state.fenced);
    return { ...state, effectivePrimary, writable, activeActive };
  }

  /**
   * Inside a writing transaction: takes the region lock (shared by every
   * write, exclusive for a change of the region itself) and reads the region
   * under it. A fence or a promotion therefore waits for the writes that
   * passed the check before it, and every write after it sees it: no event of
   * a fenced primary commits after its fence.
   */
  async lockRegion(tx: Queryable, mode: 'write' | 'change-region'): Promise<RegionView> {
    const lock = mode === 'change-region' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
    await tx.query(`SELECT ${lock}($1)`, [REGION_LOCK_KEY]);
    return this.region(tx);
  }

  /**
   * Active-active: an aggregate is written only in its home DC, the one that
   * created it (its first event's origin), so its stream never forks. Throws
   * WRONG_REGION naming the home.
   */
  assertHome(region: RegionView, streamId: string, firstEvent: { originDc: string } | undefined): void {
    if (!region.activeActive || !firstEvent || firstEvent.originDc === this.dc) return;
    throw new RegionError(
      'WRONG_REGION',
      `${streamId} belongs to ${firstEvent.originDc}, the DC that created it; send this mutation there`,
      firstEvent.originDc,
    );
  }

  /** Returns the epoch to stamp on new events, or throws READ_ONLY_REGION naming the primary. */
  assertWritable(region: RegionView): number {
    if (!region.writable) {
      if (region.effectivePrimary === this.dc) {
        // Fenced for a switchover: the writes' next home is the successor, once it has promoted itself.
        const next = region.successor ?? this.dc;
        throw new RegionError('READ_ONLY_REGION', `${this.dc} is fenced for a switchover; send writes to ${next} once it is primary`, next);
      }
      throw new RegionError(
        'READ_ONLY_REGION',
        `${this.dc} is a standby; send writes to the primary, ${region.effectivePrimary}`,
        region.effectivePrimary,
      );
    }
    return region.epoch;
  }
}
