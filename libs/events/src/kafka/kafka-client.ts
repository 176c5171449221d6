import { Admin, ITopicConfig, Kafka, logLevel, LogEntry } from 'kafkajs';
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

/** Each partition of `topic` and its end offset (high watermark: transaction markers included), as a bigint. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, BigInt(high)]));
}

/**
 * Creates the topics that do not exist yet, with the partitions and configs of
 * TOPIC_CONFIGS (mirrors take their base topic's). Topics are never auto-created.
 * Their replication factor is the brokers' `default.replication.factor` (and
 * `min.insync.replicas` theirs too): set those on a production cluster, where
 * one copy of `apim.events` would be the whole history on one disk.
 */
export async function ensureTopics(admin: Admin, topics: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return;
  await createTopicsAsBrokersDefault(
    admin,
    missing.map((topic) => {
      const config = topicConfig(topic);
      if (!config) throw new Error(`no configuration for topic ${topic}`);
      return { topic, numPartitions: config.numPartitions, configEntries: config.configEntries };
    }),
  );
}

/**
 * Creates topics with the brokers' default replication factor (`-1`, Kafka
 * 2.4+), saying which topics and why when the cluster refuses them (e.g. a
 * default replication factor above its number of brokers).
 */
export async function createTopicsAsBrokersDefault(admin: Admin, topics: Omit<ITopicConfig, 'replicationFactor'>[]): Promise<void> {
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ ...topic, replicationFactor: -1 })) });
  } catch (error) {
    const causes = ((error as { errors?: { type?: string; message?: string }[] }).errors ?? [])
      .map((cause) => `${cause.type ?? 'error'}: ${cause.message ?? ''}`.trim())
      .filter((cause, i, all) => all.indexOf(cause) === i);
    throw new Error(
      `cannot create Kafka topics ${topics.map((t) => t.topic).join(', ')}: ${causes.length > 0 ? causes.join('; ') : (error as Error).message} ` +
        "(their replication factor is the brokers' default.replication.factor)",
    );
  }
}
