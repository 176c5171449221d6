import { Queryable, START, StoreCheckpoint } from './event-store';

/** Named reader positions in the `checkpoints` table, written in the reader's own transaction. */
export class Checkpoints {
  constructor(private readonly db: Queryable) {}

  async get(name: string, tx: Queryable = this.db): Promise<StoreCheckpoint> {
    const [row] = (await tx.query(
      `SELECT transaction_id::text AS "transactionId", position::text AS position FROM checkpoints WHERE name = $1`,
      [name],
    )) as StoreCheckpoint[];
    return row ?? START;
  }

  async save(name: string, checkpoint: StoreCheckpoint, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      `INSERT INTO checkpoints (name, transaction_id, position, updated_at) VALUES ($1, $2::text::xid8, $3::bigint, now())
       ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position, updated_at = now()`,
      [name, checkpoint.transactionId, checkpoint.position],
    );
  }

  /** Kafka offsets are kept in the same table: `position` holds the next offset to read. */
  async getOffset(name: string, tx: Queryable = this.db): Promise<string | null> {
    const [row] = (await tx.query(`SELECT position::text AS position FROM checkpoints WHERE name = $1`, [name])) as { position: string }[];
    return row?.position ?? null;
  }

  async saveOffset(name: string, nextOffset: string, tx: Queryable = this.db): Promise<void> {
    await this.save(name, { transactionId: '0', position: nextOffset }, tx);
  }

  async reset(name: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(`DELETE FROM checkpoints WHERE name = $1`, [name]);
  }
}
