import type { StoredEvent, Queryable } from '../event-store/event-store';

/**
 * A read model built by tailing the store. `apply` runs inside the runner's
 * transaction, together with the checkpoint update, so a read model is never
 * ahead of or behind its checkpoint. Events arrive upcast to their current schema.
 */
export interface Projection {
  readonly name: string;
  /** Tables this projection owns; a rebuild empties them. */
  readonly tables: string[];
  apply(event: StoredEvent, tx: Queryable): Promise<void>;
}
