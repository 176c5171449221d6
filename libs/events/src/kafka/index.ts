export * from './dlq-writer';
export * from './kafka-client';
