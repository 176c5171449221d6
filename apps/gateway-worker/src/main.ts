/**
 * Gateway worker of one DC: builds its routing table from the event stream and
 * proxies API traffic. It never calls the control plane on the request path,
 * and starts from its snapshot when Kafka is down.
 */
import 'reflect-metadata';
import { JsonLogger, loadConfig, runMain } from '@apim/events';
import { GatewayConfig } from './config/gateway.config';
import { Gateway } from './gateway';

runMain('gateway-worker', async () => {
  const config = loadConfig(GatewayConfig);
  const logger = new JsonLogger({ service: 'gateway-worker', dc: config.DC_ID }, config.LOG_LEVEL);
  const gateway = new Gateway(config, logger);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    gateway.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: a second signal (a supervisor repeating itself, a process group signalled twice) must not
  // take the default action and kill the process before its snapshot is written.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await gateway.start();
});
