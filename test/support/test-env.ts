import type { KafkaCluster } from '../../tools/infra/kafka-cluster';
import type { PostgresServer } from '../../tools/infra/postgres';

/** Variables through which global setup hands the shared infrastructure to test files. */
export const TEST_ENV = {
  kafkaDc1: 'APIM_TEST_KAFKA_DC1',
  kafkaDc2: 'APIM_TEST_KAFKA_DC2',
  postgresAdminUrl: 'APIM_TEST_POSTGRES_ADMIN_URL',
} as const;

export interface TestInfra {
  clusters: KafkaCluster[];
  postgres: PostgresServer;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: integration tests need test/support/global-setup.ts (run them through jest)`);
  return value;
}

/** Brokers of the shared test cluster of a DC. */
export function testBrokers(dc: 'dc1' | 'dc2'): string[] {
  return required(dc === 'dc1' ? TEST_ENV.kafkaDc1 : TEST_ENV.kafkaDc2).split(',');
}

export function postgresAdminUrl(): string {
  return required(TEST_ENV.postgresAdminUrl);
}
