import { Decider, DomainError, Message, unreachable } from '../shared';

/** `region.promoted` v1 payload: `dc` is primary from `epoch` on. */
export interface RegionPromotedData {
  dc: string;
  epoch: number;
  previousPrimary: string | null;
}

/**
 * `region.fenced` v2 payload: `dc` stops taking writes in `epoch`, the first
 * step of a switchover to `successor`, which promotes itself once it holds
 * `eventsBefore` events of `dc` (every event `dc` wrote before the fence).
 * A v1 fence (no successor) waits for an explicit promotion.
 */
export interface RegionFencedData {
  dc: string;
  epoch: number;
  successor: string | null;
  eventsBefore: number | null;
}

/** Makes `dc` the primary in a new epoch. `knownDcs` is the configured topology (`DC_ID` and `PEER_DCS`). */
export interface PromoteRegionData {
  dc: string;
  knownDcs: readonly string[];
}

/**
 * Stops the current primary `dc` from taking writes, so a switchover can wait
 * for replication to catch up and lose nothing. `successor` (optional) is the
 * DC to promote once it has imported the `eventsBefore` events `dc` wrote.
 */
export interface FenceRegionData {
  dc: string;
  successor?: string;
  eventsBefore?: number;
  knownDcs?: readonly string[];
}

export type RegionCommand = Message<'PromoteRegion', PromoteRegionData> | Message<'FenceRegion', FenceRegionData>;
export type RegionEvent = Message<'region.promoted', RegionPromotedData> | Message<'region.fenced', RegionFencedData>;

/**
 * Epoch 0 with no primary is a fresh installation; `fenced` says the primary
 * stopped taking writes in this epoch, for a switchover to `successor` once it
 * holds `eventsBefore` of the primary's events.
 */
export interface RegionState {
  primary: string | null;
  epoch: number;
  fenced: boolean;
  successor: string | null;
  eventsBefore: number | null;
}

/** The single region stream's id. */
export const REGION_STREAM_ID = 'region';

export function initialState(): RegionState {
  return { primary: null, epoch: 0, fenced: false, successor: null, eventsBefore: null };
}

export function decide(command: RegionCommand, state: RegionState): RegionEvent[] {
  switch (command.type) {
    case 'PromoteRegion':
      return promote(command.data, state);
    case 'FenceRegion':
      return fence(command.data, state);
    default:
      return unreachable(command);
  }
}

function promote({ dc, knownDcs }: PromoteRegionData, state: RegionState): RegionEvent[] {
  if (!knownDcs.includes(dc)) throw DomainError.badInput('REGION.UNKNOWN_DC', `Unknown data centre ${dc}`, ['dc']);
  // Promoting a fenced primary again cancels a switchover (its successor never came): a new epoch, writable again.
  if (state.primary === dc && !state.fenced)
    throw DomainError.conflict('REGION.ALREADY_PRIMARY', `${dc} is already primary in epoch ${state.epoch}`, ['dc']);
  return [{ type: 'region.promoted', data: { dc, epoch: state.epoch + 1, previousPrimary: state.primary } }];
}

function fence({ dc, successor, eventsBefore, knownDcs }: FenceRegionData, state: RegionState): RegionEvent[] {
  if (state.primary === null) throw DomainError.conflict('REGION.NO_PRIMARY', 'No data centre has been promoted yet');
  // Only the primary takes writes, so fencing any other DC would stop nothing.
  if (state.primary !== dc) throw DomainError.conflict('REGION.NOT_PRIMARY', `${dc} is not the primary (${state.primary} is)`);
  if (state.fenced) throw DomainError.conflict('REGION.ALREADY_FENCED', `${dc} is already fenced in epoch ${state.epoch}`);
  if (successor !== undefined) {
    if (knownDcs && !knownDcs.includes(successor))
      throw DomainError.badInput('REGION.UNKNOWN_DC', `Unknown data centre ${successor}`, ['to']);
    if (successor === dc) throw DomainError.badInput('REGION.SAME_DC', `${dc} cannot switch over to itself`, ['to']);
  }
  return [{ type: 'region.fenced', data: { dc, epoch: state.epoch, successor: successor ?? null, eventsBefore: eventsBefore ?? null } }];
}

export function evolve(state: RegionState, event: RegionEvent): RegionState {
  switch (event.type) {
    case 'region.promoted':
      return { primary: event.data.dc, epoch: event.data.epoch, fenced: false, successor: null, eventsBefore: null };
    case 'region.fenced':
      // A fence of an epoch already left behind says nothing about the current primary.
      return event.data.epoch === state.epoch && event.data.dc === state.primary
        ? { ...state, fenced: true, successor: event.data.successor, eventsBefore: event.data.eventsBefore }
        : state;
    default:
      return unreachable(event);
  }
}

/** The Region aggregate (streamType `region`, one stream `REGION_STREAM_ID`). */
export const regionDecider: Decider<RegionCommand, RegionEvent, RegionState> = { decide, evolve, initialState };
