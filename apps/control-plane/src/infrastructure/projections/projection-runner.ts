import { DataSource, QueryRunner } from 'typeorm';
import { JsonLogger, PollingLoop, upcastStoredPayload } from '@apim/events';
import { Checkpoints } from '../event-store/checkpoints';
import { EXPECT_COMMITTED_MS, Queryable, START, StoredEvent } from '../event-store/event-store';
import { PostgresEventStore } from '../event-store/postgres-event-store';
import { Projection } from './projection';

const CHECKPOINT_PREFIX = 'projection:';

/**
 * Keeps projections up to date by tailing the store. Each batch runs in one
 * transaction that locks the projection's checkpoint row (so two runners on one
 * database never apply the same batch), applies the events and moves the checkpoint.
 */
export class ProjectionRunner {
  private readonly loop: PollingLoop;

  constructor(
    private readonly dataSource: DataSource,
    private readonly projections: Projection[],
    private readonly logger: JsonLogger,
    private readonly options: { batchSize?: number; idleMs?: number } = {},
  ) {
    this.loop = new PollingLoop({ name: 'projections', logger, idleMs: options.idleMs, step: () => this.runOnce() });
  }

  get lastError(): string | null {
    return this.loop.lastError;
  }

  start(): void {
    this.loop.start();
  }

  /** New events were committed: apply them now rather than at the next poll. */
  wake(): void {
    // Committed, but maybe not yet visible to the store's commit-safe reads (an older transaction still runs).
    this.loop.wake(EXPECT_COMMITTED_MS);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Applies one batch to every projection; returns the number of events applied. */
  async runOnce(): Promise<number> {
    let applied = 0;
    for (const projection of this.projections) applied += await this.step(projection);
    return applied;
  }

  /** Runs until every projection has caught up with what is committed now. */
  async catchUp(onProgress?: (name: string, applied: number) => void): Promise<void> {
    for (const projection of this.projections) {
      let total = 0;
      for (let n = await this.step(projection); n > 0; n = await this.step(projection)) {
        total += n;
        onProgress?.(projection.name, total);
      }
    }
  }

  /** Empties a projection's tables and its checkpoint in one transaction; the runner then rebuilds it from position zero. */
  async reset(name: string): Promise<void> {
    const projection = this.projections.find((p) => p.name === name);
    if (!projection)
      throw new Error(`unknown projection ${JSON.stringify(name)}; known: ${this.projections.map((p) => p.name).join(', ')}`);
    await this.inTransaction((tx) => this.resetIn(projection, tx));
  }

  /**
   * Empties every projection within `tx`, the transaction that moved events
   * out of the store: the move and the reset commit together or not at all
   * (a reset run after the move's commit, if it failed, left the read models
   * holding the moved events, and the retried import found nothing left to
   * move). The runner then rebuilds them from position zero.
   */
  async resetAllIn(tx: Queryable): Promise<void> {
    for (const projection of this.projections) await this.resetIn(projection, tx);
  }

  /**
   * Locks the projection's checkpoint row before emptying its tables, the
   * order `step` takes them in: a running step is waited for. (Tables first,
   * then the row, deadlocked with a step: PostgreSQL aborted the reset.)
   */
  private async resetIn(projection: Projection, tx: Queryable): Promise<void> {
    const name = CHECKPOINT_PREFIX + projection.name;
    await tx.query(`INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
    await tx.query(`SELECT 1 FROM checkpoints WHERE name = $1 FOR UPDATE`, [name]);
    if (projection.tables.length > 0) await tx.query(`TRUNCATE ${projection.tables.join(', ')}`);
    await new Checkpoints(tx).reset(name);
  }

  /** Events recorded but not yet applied, per projection (for /readyz and /metrics). */
  async lag(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const projection of this.projections) {
      const at = await new Checkpoints(this.dataSource).get(CHECKPOINT_PREFIX + projection.name);
      const [row] = await this.dataSource.query(
        `SELECT count(*)::int AS lag FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2::bigint)`,
        [at.transactionId, at.position],
      );
      result[projection.name] = row.lag;
    }
    return result;
  }

  private async step(projection: Projection): Promise<number> {
    return this.inTransaction(async (tx) => {
      const name = CHECKPOINT_PREFIX + projection.name;
      const checkpoints = new Checkpoints(tx);
      await tx.query(`INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
      await tx.query(`SELECT 1 FROM checkpoints WHERE name = $1 FOR UPDATE`, [name]);
      const from = await checkpoints.get(name);
      const events = await new PostgresEventStore(tx).readAll(from ?? START, this.options.batchSize ?? 500);
      for (const event of events) await projection.apply(upcast(event), tx);
      if (events.length > 0) await checkpoints.save(name, PostgresEventStore.checkpointOf(events[events.length - 1]));
      return events.length;
    });
  }

  private async inTransaction<T>(work: (tx: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const result = await work(runner);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }
}

function upcast(event: StoredEvent): StoredEvent {
  const { schemaVersion, payload } = upcastStoredPayload(event.type, event.schemaVersion, event.payload);
  return { ...event, schemaVersion, payload };
}
