import { MirrorProgress } from './mirror-progress';

describe('MirrorProgress', () => {
  it('reports no lag when the mirror holds everything up to the source end', () => {
    const progress = new MirrorProgress();
    progress.sourceAnswered(1000);
    progress.resumeFrom('apim.events', 0, 10n);
    progress.observeEnd('apim.events', 0, 10n, 1000);
    expect(progress.report(1500, 5000)).toEqual([{ topic: 'apim.events', partition: 0, next: '10', end: '10', lagRecords: 0, lagMs: 0 }]);
  });

  it('measures the age of the oldest pending record while a batch is being mirrored, then clears it', () => {
    const progress = new MirrorProgress();
    progress.sourceAnswered(10_000);
    progress.observeEnd('apim.events', 1, 5n, 10_000);
    progress.pending('apim.events', 1, 9_200);
    expect(progress.report(10_000, 5000)[0]).toMatchObject({ lagRecords: 5, lagMs: 800 });
    progress.mirrored('apim.events', 1, 5n, 5, 10_050);
    expect(progress.report(10_050, 5000)[0]).toMatchObject({ lagRecords: 0, lagMs: 0, next: '5' });
    expect(progress.mirroredTotal).toBe(5);
  });

  it('counts lag from when the partition was first seen behind when no record of it was fetched yet', () => {
    const progress = new MirrorProgress();
    progress.sourceAnswered(2000);
    progress.observeEnd('apim.events', 0, 3n, 2000);
    progress.observeEnd('apim.events', 0, 4n, 2600);
    expect(progress.report(3000, 5000)[0]).toMatchObject({ lagRecords: 4, lagMs: 1000 });
  });

  it('says at least how long the source has been silent while it does not answer', () => {
    const progress = new MirrorProgress();
    progress.sourceAnswered(1000);
    progress.observeEnd('apim.events', 0, 2n, 1000);
    progress.mirrored('apim.events', 0, 2n, 2, 1000);
    expect(progress.report(4000, 5000)[0].lagMs).toBe(0);
    expect(progress.report(9000, 5000)[0].lagMs).toBe(8000);
  });

  it('computes records per second over the last ten seconds', () => {
    const progress = new MirrorProgress();
    progress.mirrored('apim.events', 0, 500n, 500, 1000);
    progress.mirrored('apim.events', 0, 1000n, 500, 2000);
    expect(progress.recordsPerSecond(2000)).toBe(100);
    expect(progress.recordsPerSecond(11_500)).toBe(50);
    expect(progress.recordsPerSecond(30_000)).toBe(0);
  });
});
