import { EventStore1732000000000 } from './1732000000000-event-store';
import { ApiReadModel1732000000001 } from './1732000000001-api-read-model';

/** Every migration, oldest first. Schema changes happen only here. */
export const MIGRATIONS = [EventStore1732000000000, ApiReadModel1732000000001];
