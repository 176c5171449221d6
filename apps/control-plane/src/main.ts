/**
 * Control plane of one DC: the event-sourced command side (publisher, devportal,
 * key manager, region, auth), its read models and the GraphQL admin API.
 */
// First: fixes to kafkajs, installed before kafkajs loads (see the module).
import '@apim/events/kafka/kafkajs-patches';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { JsonLogger, listenServerTls, loadConfig, nestLogger, reloadServerTlsOnHangUp, runMain } from '@apim/events';
import { AppModule } from './app.module';
import { ControlPlaneConfig } from './config/control-plane.config';

runMain('control-plane', async () => {
  const config = loadConfig(ControlPlaneConfig);
  const logger = new JsonLogger({ service: 'control-plane', dc: config.DC_ID }, config.LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, logger), {
    logger: nestLogger(logger),
    bodyParser: false,
  });
  // One limit for every body, so that one request cannot exhaust memory; urlencoded for POST /oauth2/token.
  app.useBodyParser('json', { limit: config.REQUEST_BODY_LIMIT_BYTES });
  app.useBodyParser('urlencoded', { limit: config.REQUEST_BODY_LIMIT_BYTES, extended: false });
  app.enableShutdownHooks();
  await app.listen(config.PORT, '0.0.0.0');
  // HTTPS, when configured: the same Express app (GraphQL, OAuth2, health) on TLS_PORT, closed with the app.
  const secure = await listenServerTls(config, app.getHttpAdapter().getInstance());
  app.getHttpServer().once('close', () => {
    secure?.close();
    secure?.closeIdleConnections();
  });
  reloadServerTlsOnHangUp(config, logger, (pair) => secure?.setSecureContext(pair));
  logger.info('listening', { port: config.PORT, ...(secure ? { tlsPort: secure.port } : {}) });
});
