import { Message, Producer } from 'kafkajs';
import { TOPICS } from '../topics';

/** What went to the DLQ and why. The original bytes are kept so nothing is lost. */
export interface DeadLetter {
  sourceTopic: string;
  partition: number;
  offset: string;
  reason: string;
  key: Buffer | null;
  value: Buffer | null;
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
      'dlq.reason': letter.reason,
      'dlq.source.topic': letter.sourceTopic,
      'dlq.source.partition': String(letter.partition),
      'dlq.source.offset': letter.offset,
      'dlq.consumer': consumer,
    },
  };
}
