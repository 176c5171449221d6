/**
 * Replicator of one DC: mirrors every peer DC's local topics into this DC's
 * cluster as `<peer>.<topic>`, exactly once, with checkpoints kept in this cluster.
 */
// First: fixes to kafkajs, installed before kafkajs loads (see the module).
import '@apim/events/kafka/kafkajs-patches';
import 'reflect-metadata';
import { ConfigError, JsonLogger, loadConfig, runMain, stopOnSignals } from '@apim/events';
import { ReplicatorConfig } from './config/replicator.config';
import { Replicator } from './replicator';

runMain('replicator', async () => {
  const config = loadConfig(ReplicatorConfig);
  const missing = config.sources.filter((source) => source.brokers.length === 0).map((source) => source.dc);
  if (missing.length > 0)
    throw new ConfigError([{ variable: 'PEER_KAFKA_BROKERS', reason: `has no brokers for ${missing.join(', ')} (named in PEER_DCS)` }]);
  if (config.sources.length === 0)
    throw new ConfigError([{ variable: 'PEER_KAFKA_BROKERS', reason: `names no DC other than ${config.DC_ID}: nothing to mirror` }]);
  const logger = new JsonLogger({ service: 'replicator', dc: config.DC_ID }, config.LOG_LEVEL);
  const replicator = new Replicator(config, logger);
  stopOnSignals(logger, () => replicator.stop());
  await replicator.start();
});
