/**
 * Gateway worker of one DC: builds its routing table from the event stream and
 * proxies API traffic. It never calls the control plane on the request path.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { JsonLogger, loadConfig, nestLogger, runMain } from '@apim/events';
import { AppModule } from './app.module';
import { GatewayConfig } from './config/gateway.config';

runMain('gateway-worker', async () => {
  const config = loadConfig(GatewayConfig);
  const logger = new JsonLogger({ service: 'gateway-worker', dc: config.DC_ID }, config.LOG_LEVEL);
  const app = await NestFactory.create(AppModule.register(config), { logger: nestLogger(logger) });
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  logger.info('listening', { port: config.PORT });
});
