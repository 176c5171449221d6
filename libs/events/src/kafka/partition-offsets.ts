/**
 * Which offset of each partition may be committed when some records are held
 * back (a stream gap waiting to fill): never past the oldest held record, so a
 * restart re-reads it. Records after it that were applied come back as
 * duplicates and are ignored.
 */
export class PartitionOffsets {
  private readonly processed = new Map<string, bigint>();
  private readonly held = new Map<string, Set<bigint>>();

  markProcessed(topic: string, partition: number, offset: string): void {
    const key = `${topic}\u0000${partition}`;
    const value = BigInt(offset);
    if ((this.processed.get(key) ?? -1n) < value) this.processed.set(key, value);
  }

  hold(topic: string, partition: number, offset: string): void {
    const key = `${topic}\u0000${partition}`;
    if (!this.held.has(key)) this.held.set(key, new Set());
    this.held.get(key)!.add(BigInt(offset));
  }

  release(topic: string, partition: number, offset: string): void {
    this.held.get(`${topic}\u0000${partition}`)?.delete(BigInt(offset));
  }

  /** The next offset to resume from, per partition. */
  committable(): { topic: string; partition: number; offset: string }[] {
    return [...this.processed.entries()].map(([key, last]) => {
      const [topic, partition] = key.split('\u0000');
      const held = [...(this.held.get(key) ?? [])];
      const next = held.length > 0 ? held.reduce((a, b) => (a < b ? a : b)) : last + 1n;
      return { topic, partition: Number(partition), offset: next.toString() };
    });
  }
}
