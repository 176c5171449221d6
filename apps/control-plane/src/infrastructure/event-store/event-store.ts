import type { EventEnvelope, StreamType } from '@apim/events';

/** Anything that runs SQL: a pool, a TypeORM QueryRunner or EntityManager inside a transaction. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** A position in the store's commit-safe order (see docs/architecture.md, "Tailing the event store"). */
export interface StoreCheckpoint {
  /** xid8 of the writing transaction, as decimal text. */
  transactionId: string;
  /** Global position, as decimal text (bigint). */
  position: string;
}

export const START: StoreCheckpoint = { transactionId: '0', position: '0' };

/** An event as recorded in this DC's store. */
export interface StoredEvent extends EventEnvelope {
  position: string;
  transactionId: string;
  recordedAt: string;
}

/** What a decider produced, before the store gives it an id, a version and metadata. */
export interface NewEvent {
  type: string;
  schemaVersion: number;
  payload: unknown;
}

/** Who and what caused an append; copied into every envelope. */
export interface AppendContext {
  originDc: string;
  epoch: number;
  correlationId: string;
  causationId?: string | null;
  actor?: string | null;
}

export type ImportOutcome = 'appended' | 'duplicate' | 'gap' | 'conflict';

/** Raised when a stream's version is not the one the writer expected. */
export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} is no longer at version ${expectedVersion}`);
    this.name = 'ConcurrencyError';
  }
}

export interface StreamHead {
  streamId: string;
  streamType: StreamType;
  version: number;
}

/** The envelope part of a stored event, as it goes onto Kafka. */
export function toEnvelope(event: StoredEvent): EventEnvelope {
  const { position: _position, transactionId: _transactionId, recordedAt: _recordedAt, ...envelope } = event;
  return envelope;
}

/**
 * How long a reader of the store, told that events were just committed, polls
 * every few ms for them: commit-safe reads skip rows until every older
 * transaction has ended, which is usually a matter of milliseconds.
 */
export const EXPECT_COMMITTED_MS = 250;
