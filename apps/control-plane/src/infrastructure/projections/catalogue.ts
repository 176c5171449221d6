import { ApisProjection } from '../../publisher/projections/apis.projection';
import { Projection } from './projection';

/** Every projection of the control plane, in one place for the runner and the rebuild command. */
export function allProjections(): Projection[] {
  return [new ApisProjection()];
}
