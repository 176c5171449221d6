import { UsersProjection } from '../../auth/users.projection';
import { DevportalProjection } from '../../devportal/projections/devportal.projection';
import { CredentialsProjection } from '../../keymanager/projections/credentials.projection';
import { ApisProjection } from '../../publisher/projections/apis.projection';
import { PoliciesProjection } from '../../publisher/projections/policies.projection';
import { Projection } from './projection';

/** Every projection of the control plane, in one place for the runner and the rebuild command. */
export function allProjections(): Projection[] {
  return [new ApisProjection(), new PoliciesProjection(), new DevportalProjection(), new CredentialsProjection(), new UsersProjection()];
}
