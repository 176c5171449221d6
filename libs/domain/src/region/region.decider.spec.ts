import { expectReplayToRebuildState, given } from '../shared/decider-test-kit';
import { RegionCommand, regionDecider, RegionEvent } from './region.decider';

const DCS = ['dc1', 'dc2', 'dc3'];
const promote = (dc: string): RegionCommand => ({ type: 'PromoteRegion', data: { dc, knownDcs: DCS } });
const fence = (dc: string): RegionCommand => ({ type: 'FenceRegion', data: { dc } });
const promoted = (dc: string, epoch: number, previousPrimary: string | null): RegionEvent => ({
  type: 'region.promoted',
  data: { dc, epoch, previousPrimary },
});
const fenced = (dc: string, epoch: number): RegionEvent => ({ type: 'region.fenced', data: { dc, epoch } });

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

  it('refuses to fence a DC that is not the primary', () => {
    given(regionDecider, DC1_PRIMARY).when(fence('dc2')).thenThrows('REGION.NOT_PRIMARY', ['dc']);
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
    expect(state).toEqual({ primary: 'dc3', epoch: 3, fenced: true });
  });

  it('ignores a fence of an epoch already left behind', () => {
    const state = [...DC1_PRIMARY, promoted('dc2', 2, 'dc1'), fenced('dc1', 1)].reduce(regionDecider.evolve, regionDecider.initialState());
    expect(state).toEqual({ primary: 'dc2', epoch: 2, fenced: false });
  });
});
