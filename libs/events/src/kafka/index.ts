export * from './chunks';
export * from './dlq-writer';
export * from './kafka-client';
export * from './kafka-security';
export * from './partition-offsets';
export * from './telemetry-producer';
