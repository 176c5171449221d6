/**
 * Gateway worker of one DC: builds its routing table from the event stream and
 * proxies API traffic. It never calls the control plane on the request path,
 * and starts from its snapshot when Kafka is down.
 */
// First: fixes to kafkajs, installed before kafkajs loads (see the module).
import '@apim/events/kafka/kafkajs-patches';
import 'reflect-metadata';
import { JsonLogger, loadConfig, reloadServerTlsOnHangUp, runMain, stopOnSignals } from '@apim/events';
import { GatewayConfig } from './config/gateway.config';
import { Gateway } from './gateway';

runMain('gateway-worker', async () => {
  const config = loadConfig(GatewayConfig);
  const logger = new JsonLogger({ service: 'gateway-worker', dc: config.DC_ID }, config.LOG_LEVEL);
  const gateway = new Gateway(config, logger);
  stopOnSignals(logger, () => gateway.stop());
  reloadServerTlsOnHangUp(config, logger, (pair) => gateway.setTls(pair));
  await gateway.start();
});
