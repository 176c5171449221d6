import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { RegionCommand, regionDecider, RegionEvent } from './region.decider';

const DCS = ['dc1', 'dc2', 'dc3'];
const promote = (dc: string): RegionCommand => ({ type: 'PromoteRegion', data: { dc, knownDcs: DCS } });
const fence = (dc: string): RegionCommand => ({ type: 'FenceRegion', data: { dc } });
const promoted = (dc: string, epoch: number, previousPrimary: string | null): RegionEvent => ({
  type: 'region.promoted',
  data: { dc, epoch, previousPrimary },
});
const fenced = (dc: string, epoch: number): RegionEvent => ({
  type: 'region.fenced',
  data: { dc, epoch, successor: null, eventsBefore: null },
});

const DC1_PRIMARY = [promoted('dc1', 1, null)];

describe('PromoteRegion', () => {
  it('makes the first primary in epoch 1, with no previous primary', () => {
    given(regionDecider, [])
      .when(promote('dc1'))
      .then([promoted('dc1', 1, null)]);
  });

  it('fails over to another DC in the next epoch, naming the previous primary', () => {
    given(regionDecider, DC1_PRIMARY)
      .when(promote('dc2'))
      .then([promoted('dc2', 2, 'dc1')]);
  });

  it('completes a switchover by promoting another DC once the primary is fenced', () => {
    given(regionDecider, [...DC1_PRIMARY, fenced('dc1', 1)])
      .when(promote('dc2'))
      .then([promoted('dc2', 2, 'dc1')]);
  });

  it('can promote back a DC that was primary in an earlier epoch', () => {
    given(regionDecider, [...DC1_PRIMARY, promoted('dc2', 2, 'dc1')])
      .when(promote('dc1'))
      .then([promoted('dc1', 3, 'dc2')]);
  });

  it('cancels a switchover by promoting the fenced primary again, in a new epoch', () => {
    given(regionDecider, [...DC1_PRIMARY, fenced('dc1', 1)])
      .when(promote('dc1'))
      .then([promoted('dc1', 2, 'dc1')]);
  });

  it('refuses to promote the DC that is already primary', () => {
    const error = given(regionDecider, DC1_PRIMARY).when(promote('dc1')).thenThrows('REGION.ALREADY_PRIMARY', ['dc']);
    expect(error.kind).toBe('CONFLICT');
  });

  it('refuses to promote an unknown DC', () => {
    const error = given(regionDecider, DC1_PRIMARY).when(promote('dc9')).thenThrows('REGION.UNKNOWN_DC', ['dc']);
    expect(error.kind).toBe('BAD_USER_INPUT');
  });
});

describe('FenceRegion', () => {
  it('fences the primary in the current epoch', () => {
    given(regionDecider, [...DC1_PRIMARY, promoted('dc2', 2, 'dc1')])
      .when(fence('dc2'))
      .then([fenced('dc2', 2)]);
  });

  it('names the successor of a switchover and how many events of the primary it must hold first', () => {
    given(regionDecider, DC1_PRIMARY)
      .when({ type: 'FenceRegion', data: { dc: 'dc1', successor: 'dc2', eventsBefore: 42, knownDcs: DCS } })
      .then([{ type: 'region.fenced', data: { dc: 'dc1', epoch: 1, successor: 'dc2', eventsBefore: 42 } }]);
  });

  it('refuses a switchover to an unknown DC or to the primary itself', () => {
    given(regionDecider, DC1_PRIMARY)
      .when({ type: 'FenceRegion', data: { dc: 'dc1', successor: 'dc9', eventsBefore: 1, knownDcs: DCS } })
      .thenThrows('REGION.UNKNOWN_DC', ['to']);
    given(regionDecider, DC1_PRIMARY)
      .when({ type: 'FenceRegion', data: { dc: 'dc1', successor: 'dc1', eventsBefore: 1, knownDcs: DCS } })
      .thenThrows('REGION.SAME_DC', ['to']);
  });

  it('refuses to fence a DC that is not the primary', () => {
    given(regionDecider, DC1_PRIMARY).when(fence('dc2')).thenThrows('REGION.NOT_PRIMARY');
  });

  it('refuses to fence the primary twice in one epoch', () => {
    given(regionDecider, [...DC1_PRIMARY, fenced('dc1', 1)])
      .when(fence('dc1'))
      .thenThrows('REGION.ALREADY_FENCED');
  });

  it('refuses to fence before any DC was promoted', () => {
    given(regionDecider, []).when(fence('dc1')).thenThrows('REGION.NO_PRIMARY');
  });

  it('fences a new primary again after a promotion, which lifts the old fence', () => {
    given(regionDecider, [...DC1_PRIMARY, fenced('dc1', 1), promoted('dc2', 2, 'dc1')])
      .when(fence('dc2'))
      .then([fenced('dc2', 2)]);
  });
});

describe('Region evolve', () => {
  it('is a fold: rebuilding state from the emitted events gives the same state', () => {
    const state = expectReplayToRebuildState(regionDecider, [promote('dc1'), fence('dc1'), promote('dc2'), promote('dc3'), fence('dc3')]);
    expect(state).toEqual({ primary: 'dc3', epoch: 3, fenced: true, successor: null, eventsBefore: null });
  });

  it('ignores a fence of an epoch already left behind', () => {
    const state = [...DC1_PRIMARY, promoted('dc2', 2, 'dc1'), fenced('dc1', 1)].reduce(regionDecider.evolve, regionDecider.initialState());
    expect(state).toEqual({ primary: 'dc2', epoch: 2, fenced: false, successor: null, eventsBefore: null });
  });
});
