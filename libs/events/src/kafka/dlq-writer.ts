import { IHeaders, KafkaMessage, Message, Producer } from 'kafkajs';
import { TOPICS } from '../topics';

/** What went to the DLQ and why. The original bytes are kept so nothing is lost. */
export interface DeadLetter {
  sourceTopic: string;
  partition: number;
  offset: string;
  reason: string;
  key: Buffer | null;
  value: Buffer | null;
  /**
   * The record's own headers, kept. A mirror's records carry their source
   * offset (`apim.mirror.offset`): two letters of one record (a copy written
   * again after an aborted replicator transaction) carry the same.
   */
  headers?: IHeaders;
}

/** The dead letter of a consumed record: where it was, why it was refused, and all of it. */
export function deadLetterOf(topic: string, partition: number, message: KafkaMessage, reason: string): DeadLetter {
  return {
    sourceTopic: topic,
    partition,
    offset: message.offset,
    reason,
    key: message.key,
    value: message.value,
    headers: message.headers,
  };
}

/**
 * Writes undecodable or invalid records to `apim.events.dlq` with their reason
 * in headers, so a consumer can move on without losing them.
 */
export class DlqWriter {
  constructor(
    private readonly producer: Producer,
    private readonly consumer: string,
  ) {}

  async write(letter: DeadLetter): Promise<void> {
    await this.producer.send({ topic: TOPICS.dlq, acks: -1, messages: [deadLetterMessage(letter, this.consumer)] });
  }
}

/** The `apim.events.dlq` record of a dead letter written by `consumer`: the original bytes, the reason in headers. */
export function deadLetterMessage(letter: DeadLetter, consumer: string): Message {
  return {
    key: letter.key,
    value: letter.value,
    headers: {
      ...letter.headers,
      'dlq.reason': letter.reason,
      'dlq.source.topic': letter.sourceTopic,
      'dlq.source.partition': String(letter.partition),
      'dlq.source.offset': letter.offset,
      'dlq.consumer': consumer,
    },
  };
}
