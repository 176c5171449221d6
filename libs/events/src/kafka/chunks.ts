import type { KafkaMessage } from 'kafkajs';

/** Splits `messages` into runs whose estimated encoded size (with the two mirror headers) stays under `maxBytes`. */
export function chunks(messages: KafkaMessage[], maxBytes: number): KafkaMessage[][] {
  const result: KafkaMessage[][] = [];
  let current: KafkaMessage[] = [];
  let size = 0;
  for (const message of messages) {
    let bytes = 80 + (message.key?.length ?? 0) + (message.value?.length ?? 0);
    for (const [name, value] of Object.entries(message.headers ?? {})) bytes += name.length + String(value ?? '').length + 4;
    if (current.length > 0 && size + bytes > maxBytes) {
      result.push(current);
      current = [];
      size = 0;
    }
    current.push(message);
    size += bytes;
  }
  if (current.length > 0) result.push(current);
  return result;
}
