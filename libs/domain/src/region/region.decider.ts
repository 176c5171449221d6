import { Decider, DomainError, Message, unreachable } from '../shared';

/** `region.promoted` v1 payload: `dc` is primary from `epoch` on. */
export interface RegionPromotedData {
  dc: string;
  epoch: number;
  previousPrimary: string | null;
}

/** `region.fenced` v1 payload: `dc` stops taking writes in `epoch` (first step of a switchover). */
export interface RegionFencedData {
  dc: string;
  epoch: number;
}

/** Makes `dc` the primary in a new epoch. `knownDcs` is the configured topology (`DC_ID` and `PEER_DCS`). */
export interface PromoteRegionData {
  dc: string;
  knownDcs: readonly string[];
}

/** Stops the current primary `dc` from taking writes, so a switchover can wait for replication to catch up and lose nothing. */
export interface FenceRegionData {
  dc: string;
}

export type RegionCommand = Message<'PromoteRegion', PromoteRegionData> | Message<'FenceRegion', FenceRegionData>;
export type RegionEvent = Message<'region.promoted', RegionPromotedData> | Message<'region.fenced', RegionFencedData>;

/** Epoch 0 with no primary is a fresh installation; `fenced` says the primary stopped taking writes in this epoch. */
export interface RegionState {
  primary: string | null;
  epoch: number;
  fenced: boolean;
}

/** The single region stream's id. */
export const REGION_STREAM_ID = 'region';

export function initialState(): RegionState {
  return { primary: null, epoch: 0, fenced: false };
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
  if (state.primary === dc)
    throw DomainError.conflict('REGION.ALREADY_PRIMARY', `${dc} is already primary in epoch ${state.epoch}`, ['dc']);
  return [{ type: 'region.promoted', data: { dc, epoch: state.epoch + 1, previousPrimary: state.primary } }];
}

function fence({ dc }: FenceRegionData, state: RegionState): RegionEvent[] {
  if (state.primary === null) throw DomainError.conflict('REGION.NO_PRIMARY', 'No data centre has been promoted yet');
  // Only the primary takes writes, so fencing any other DC would stop nothing.
  if (state.primary !== dc) throw DomainError.conflict('REGION.NOT_PRIMARY', `${dc} is not the primary (${state.primary} is)`, ['dc']);
  if (state.fenced) throw DomainError.conflict('REGION.ALREADY_FENCED', `${dc} is already fenced in epoch ${state.epoch}`);
  return [{ type: 'region.fenced', data: { dc, epoch: state.epoch } }];
}

export function evolve(state: RegionState, event: RegionEvent): RegionState {
  switch (event.type) {
    case 'region.promoted':
      return { primary: event.data.dc, epoch: event.data.epoch, fenced: false };
    case 'region.fenced':
      // A fence of an epoch already left behind says nothing about the current primary.
      return event.data.epoch === state.epoch && event.data.dc === state.primary ? { ...state, fenced: true } : state;
    default:
      return unreachable(event);
  }
}

/** The Region aggregate (streamType `region`, one stream `REGION_STREAM_ID`). */
export const regionDecider: Decider<RegionCommand, RegionEvent, RegionState> = { decide, evolve, initialState };
