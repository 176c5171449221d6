import { randomUUID } from 'node:crypto';
import { Kafka, Producer } from 'kafkajs';
import { encodeEvent, EventEnvelope, EventType, newEnvelope, sha256Hex, TOPICS, validateEnvelope } from '@apim/events';

/**
 * Writes catalogue events straight to a DC's `apim.events`, as the outbox
 * relay would: for tests of consumers (gateways) that must not depend on a
 * control plane. Keeps each stream's version; every event is validated first.
 */
export class EventWriter {
  private readonly versions = new Map<string, number>();
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: { dc: string; epoch?: number; topic?: string } = { dc: 'dc1' },
  ) {}

  /** Appends one event to `streamId` at its next version; resolves when Kafka has acknowledged it. */
  async write<K extends EventType>(type: K, streamId: string, payload: object): Promise<EventEnvelope> {
    const envelope = this.envelope(type, streamId, payload);
    await this.send([envelope]);
    return envelope;
  }

  /** Builds the next event of `streamId` without sending it (for batches). */
  envelope(type: EventType, streamId: string, payload: object): EventEnvelope {
    const version = (this.versions.get(streamId) ?? 0) + 1;
    const candidate = newEnvelope(type, streamId, version, payload, {
      originDc: this.options.dc,
      epoch: this.options.epoch ?? 1,
      actor: 'test',
    });
    const checked = validateEnvelope(candidate);
    if (!checked.ok) throw new Error(`test event ${type} is invalid: ${checked.reason}`);
    this.versions.set(streamId, version);
    return candidate;
  }

  async send(envelopes: EventEnvelope[]): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    await this.producer.send({ topic: this.options.topic ?? TOPICS.events, acks: -1, messages: envelopes.map(encodeEvent) });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

/** A new API key as the key manager makes them, and its hash as events carry it. */
export function testApiKey(): { key: string; keyHash: string; prefix: string } {
  const key = `apim_${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '').slice(0, 11)}`;
  return { key, keyHash: sha256Hex(key), prefix: key.slice(0, 12) };
}
