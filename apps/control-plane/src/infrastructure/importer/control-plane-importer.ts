import { followImportedClaim, rebuildContextClaims } from '../../publisher/commands/context-claims';
import { ProjectionRunner } from '../projections/projection-runner';
import { EventImporter, EventImporterOptions, RegionLock } from './event-importer';

/**
 * The importer as a control plane runs it: context claims follow imported
 * APIs, and events moved aside reset the claims and every read model in the
 * same transaction. Used by the control plane (peers' mirrors, for good) and
 * by `dc:restore` (a peer's whole history, once).
 */
export function controlPlaneImporter(
  options: Omit<EventImporterOptions, 'region' | 'onAppended' | 'onMovedAside'> & { region: RegionLock; projections: ProjectionRunner },
): EventImporter {
  const { projections, ...importer } = options;
  return new EventImporter({
    ...importer,
    onAppended: (envelope, tx) => followImportedClaim(tx, envelope),
    onMovedAside: async (tx) => {
      await rebuildContextClaims(tx);
      await projections.resetAllIn(tx);
    },
  });
}
