/**
 * Replicator of one DC: mirrors every peer DC's local topics into this DC's
 * cluster as `<peer>.<topic>`, with checkpoints kept in this cluster.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { JsonLogger, loadConfig, nestLogger, runMain } from '@apim/events';
import { AppModule } from './app.module';
import { ReplicatorConfig } from './config/replicator.config';

runMain('replicator', async () => {
  const config = loadConfig(ReplicatorConfig);
  const logger = new JsonLogger({ service: 'replicator', dc: config.DC_ID }, config.LOG_LEVEL);
  const app = await NestFactory.create(AppModule.register(config), { logger: nestLogger(logger) });
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  logger.info('listening', { port: config.PORT });
});
