import { EventStore1732000000000 } from './1732000000000-event-store';
import { ApiReadModel1732000000001 } from './1732000000001-api-read-model';
import { ControlPlaneReadModels1732000000002 } from './1732000000002-control-plane-read-models';
import { UsageReadModel1732000000003 } from './1732000000003-usage-read-model';
import { GatewayDirectory1732000000004 } from './1732000000004-gateway-directory';
import { ReplicationStatus1732000000005 } from './1732000000005-replication-status';
import { DivergentEvents1732000000006 } from './1732000000006-divergent-events';
import { Conflicts1732000000007 } from './1732000000007-conflicts';
import { ApiThrottlingPolicy1732000000008 } from './1732000000008-api-throttling-policy';
import { ApplicationDeleted1732000000009 } from './1732000000009-application-deleted';
import { ImporterProgress1732000000010 } from './1732000000010-importer-progress';

/** Every migration, oldest first. Schema changes happen only here. */
export const MIGRATIONS = [
  EventStore1732000000000,
  ApiReadModel1732000000001,
  ControlPlaneReadModels1732000000002,
  UsageReadModel1732000000003,
  GatewayDirectory1732000000004,
  ReplicationStatus1732000000005,
  DivergentEvents1732000000006,
  Conflicts1732000000007,
  ApiThrottlingPolicy1732000000008,
  ApplicationDeleted1732000000009,
  ImporterProgress1732000000010,
];
