/**
 * Usage records on their way from the request path to the telemetry thread
 * (`telemetry-thread.ts`), packed as numbers: per request the event loop
 * writes eight numbers into a Float64Array, and strings (API ids, application
 * ids, methods) travel once each, as indexes into a table both sides keep.
 * A batch is posted with its buffer transferred, not copied, and messages
 * between two threads arrive in order, so a batch's new strings are always
 * known by the time its numbers are read.
 */

/** What the request path knows about one request (the record id, gateway and DC are the thread's). */
export interface UsageFields {
  apiId: string;
  applicationId: string | null;
  method: string;
  status: number;
  latencyMs: number;
  requestBytes: number;
  responseBytes: number;
  /** When the request arrived, in epoch milliseconds. */
  startedAt: number;
}

/** A batch as posted to the telemetry thread. */
export interface UsageBatch {
  /** The receiver forgets its strings before adding `strings`: the sender's table had grown too large. */
  reset: boolean;
  /** Strings first used by this batch, in index order after the ones already sent. */
  strings: string[];
  count: number;
  data: Float64Array;
}

const FIELDS = 8;
const NO_APPLICATION = -1;

/** Packs usage fields into batches; `take()` hands over what was written since the last one. */
export class UsageBatchWriter {
  private readonly indexes = new Map<string, number>();
  private fresh: string[] = [];
  private reset = false;
  private data: Float64Array;
  private count = 0;

  /**
   * @param capacity records per batch; `add` returns true when the batch is full and should be taken.
   * @param maxStrings distinct strings remembered before both sides start a new table.
   */
  constructor(
    readonly capacity: number,
    private readonly maxStrings = 100_000,
  ) {
    this.data = new Float64Array(capacity * FIELDS);
  }

  get size(): number {
    return this.count;
  }

  /** Adds one record; true when the batch is now full. Never called on a full batch (take it first). */
  add(fields: UsageFields): boolean {
    const data = this.data;
    const at = this.count * FIELDS;
    data[at] = this.index(fields.apiId);
    data[at + 1] = fields.applicationId === null ? NO_APPLICATION : this.index(fields.applicationId);
    data[at + 2] = this.index(fields.method);
    data[at + 3] = fields.status;
    data[at + 4] = fields.latencyMs;
    data[at + 5] = fields.requestBytes;
    data[at + 6] = fields.responseBytes;
    data[at + 7] = fields.startedAt;
    return ++this.count === this.capacity;
  }

  /** The batch written so far (null when empty); the writer starts a new one. */
  take(): UsageBatch | null {
    if (this.count === 0) return null;
    const batch: UsageBatch = {
      reset: this.reset,
      strings: this.fresh,
      count: this.count,
      data: this.data.subarray(0, this.count * FIELDS),
    };
    this.data = new Float64Array(this.capacity * FIELDS);
    this.count = 0;
    this.fresh = [];
    this.reset = false;
    // Ids of deleted APIs and applications would pile up forever: past the limit both tables start again (with the next batch).
    if (this.indexes.size >= this.maxStrings) {
      this.indexes.clear();
      this.reset = true;
    }
    return batch;
  }

  /** Starts a new string table (the receiver's is gone); the next batch tells the next receiver to start afresh too. */
  forget(): void {
    if (this.count !== 0) throw new Error('forget() with records written: take() them first');
    this.indexes.clear();
    this.fresh = [];
    this.reset = true;
  }

  private index(text: string): number {
    let index = this.indexes.get(text);
    if (index === undefined) {
      index = this.indexes.size;
      this.indexes.set(text, index);
      this.fresh.push(text);
    }
    return index;
  }
}

/** The receiving side: keeps the strings and reads each batch back into fields. */
export class UsageBatchReader {
  private strings: string[] = [];

  read(batch: UsageBatch): UsageFields[] {
    if (batch.reset) this.strings = [];
    for (const text of batch.strings) this.strings.push(text);
    const { data } = batch;
    const records: UsageFields[] = new Array(batch.count);
    for (let i = 0; i < batch.count; i++) {
      const at = i * FIELDS;
      records[i] = {
        apiId: this.string(data[at]),
        applicationId: data[at + 1] === NO_APPLICATION ? null : this.string(data[at + 1]),
        method: this.string(data[at + 2]),
        status: data[at + 3],
        latencyMs: data[at + 4],
        requestBytes: data[at + 5],
        responseBytes: data[at + 6],
        startedAt: data[at + 7],
      };
    }
    return records;
  }

  private string(index: number): string {
    const text = this.strings[index];
    if (text === undefined) throw new Error(`usage batch refers to string ${index}, which was never sent (${this.strings.length} known)`);
    return text;
  }
}
