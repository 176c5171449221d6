import { IsIn, Matches } from 'class-validator';
import { DcConfig } from '@apim/events';

export const REPLICATION_MODES = ['active-passive', 'active-active'] as const;
export type ReplicationMode = (typeof REPLICATION_MODES)[number];

export class ControlPlaneConfig extends DcConfig {
  override PORT = 4000;

  /** PostgreSQL holding this DC's event store and read models. */
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL!: string;

  @IsIn(REPLICATION_MODES)
  REPLICATION_MODE: ReplicationMode = 'active-passive';
}
