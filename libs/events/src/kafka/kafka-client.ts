import { Admin, Kafka, logLevel, LogEntry } from 'kafkajs';
import { JsonLogger } from '../runtime/logger';
import { topicConfig } from '../topics';
import type { KafkaSecurity } from './kafka-security';

/**
 * A kafkajs client whose own log lines come out as our JSON lines (warnings
 * and errors only), reaching the brokers over TLS and SASL as `security` says
 * (from the `KAFKA_TLS*` and `KAFKA_SASL_*` variables; none: plaintext).
 */
export function createKafka(options: { brokers: string[]; clientId: string; logger?: JsonLogger; security?: KafkaSecurity }): Kafka {
  const logger = options.logger;
  const { ssl, sasl } = options.security ?? {};
  if (sasl?.mechanism === 'plain' && !ssl)
    logger?.warn('KAFKA_SASL_MECHANISM=plain without TLS: the password crosses the network in clear');
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: 3000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 10 },
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!logger) return;
        const { message, ...fields } = log;
        const line = `kafkajs: ${message}`;
        if (level <= logLevel.ERROR) logger.error(line, { kafka: fields });
        else logger.warn(line, { kafka: fields });
      },
  });
}

/**
 * Creates the topics that do not exist yet, with the partitions and configs of
 * TOPIC_CONFIGS (mirrors take their base topic's). Topics are never auto-created.
 */
export async function ensureTopics(admin: Admin, topics: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => {
      const config = topicConfig(topic);
      if (!config) throw new Error(`no configuration for topic ${topic}`);
      return { topic, numPartitions: config.numPartitions, replicationFactor: 1, configEntries: config.configEntries };
    }),
  });
}
