/**
 * `npm run dc:restore -- [--from <peer>] [--timeout <seconds>]`: rebuilds a
 * lost DC under its own id from a peer (docs/operations.md, "Rebuild a lost
 * DC"). Run it in the new DC, before any of its apps, with the control
 * plane's environment (DC_ID, KAFKA_BROKERS, DATABASE_URL, PEER_DCS, ...) and
 * the replicator's PEER_KAFKA_BROKERS (and PEER_<DC>_KAFKA_* when the peer's
 * cluster has its own TLS or SASL settings). Progress goes to stderr, the
 * result to stdout. Exit codes: 0 restored, 2 bad usage, 4 refused (nothing
 * changed by the refusing step; the message says why), 78 bad configuration,
 * 1 failure (run it again: every step resumes).
 */
import '@apim/events/kafka/kafkajs-patches';
import { Command, InvalidArgumentError } from 'commander';
import { createKafka, JsonLogger, loadConfig, runMain } from '@apim/events';
import { ControlPlaneConfig } from '../apps/control-plane/src/config/control-plane.config';
import { createDataSource, runMigrationsLocked } from '../apps/control-plane/src/infrastructure/database/data-source';
import {
  beginRestore,
  finishRestore,
  importHistory,
  restoreOwnTopic,
  RestoreRefused,
} from '../apps/control-plane/src/infrastructure/restore/dc-restore';
import { ReplicatorConfig } from '../apps/replicator/src/config/replicator.config';

const EXIT_REFUSED = 4;

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a whole number of seconds, at least 1');
  return parsed;
}

runMain('dc:restore', async () => {
  const options = new Command('dc:restore')
    .description('rebuild this lost DC (DC_ID) under its own id from a peer that holds its history')
    .option('--from <peer>', 'the peer DC to restore from (default: the only peer in PEER_KAFKA_BROKERS)')
    .option('--timeout <seconds>', 'give up when the import has not caught up within this long', seconds, 600)
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(process.argv)
    .opts<{ from?: string; timeout: number }>();

  const config = loadConfig(ControlPlaneConfig);
  const peers = loadConfig(ReplicatorConfig).sources;
  const dc = config.DC_ID;
  const from = options.from ?? (peers.length === 1 ? peers[0].dc : undefined);
  const peer = peers.find((source) => source.dc === from);
  if (!peer) {
    const known = peers.map((source) => source.dc).join(', ');
    console.error(
      `dc:restore: ${from ? `${from} is not a peer with brokers in PEER_KAFKA_BROKERS (${known})` : `name the peer to restore from with --from (one of ${known})`}`,
    );
    process.exit(2);
  }
  const progress = (line: string) => process.stderr.write(`dc:restore: ${line}\n`);
  const logger = new JsonLogger({ service: 'dc-restore', dc }, 'warn', (line) => process.stderr.write(`${line}\n`));
  // kafkajs' own log stays quiet (its retries are not the operator's business); failures surface as errors.
  const ownKafka = createKafka({ brokers: config.brokers, clientId: `dc-restore-${dc}`, security: config.kafkaSecurity });
  const peerKafka = createKafka({ brokers: peer.brokers, clientId: `dc-restore-${dc}`, security: peer.security });
  const db = await createDataSource(config.DATABASE_URL, { poolSize: 4, applicationName: `apim-dc-restore-${dc}` }).initialize();
  const ownProducer = ownKafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await runMigrationsLocked(db);
    const topic = await restoreOwnTopic({
      dc,
      peer: peer.dc,
      peerKafka,
      ownKafka,
      begin: (topicRecords) => beginRestore(db, dc, topicRecords),
      progress,
    });
    progress(
      `${topic.mirror} of ${peer.dc}: ${topic.records} records in ${dc}'s apim.events at their offsets (${topic.copied} copied now)`,
    );
    await ownProducer.connect();
    const history = await importHistory({
      db,
      config,
      peer: peer.dc,
      peerKafka,
      ownProducer,
      logger,
      progress,
      timeoutMs: options.timeout * 1000,
    });
    await finishRestore(db);
    const { region } = history;
    const role = region.activeActive
      ? 'writable (active-active)'
      : `${region.effectivePrimary === dc ? 'PRIMARY' : 'STANDBY'} in epoch ${region.epoch}`;
    console.log(
      [
        `${dc} restored from ${peer.dc}:`,
        `  apim.events: ${topic.records} records of ${dc} in ${topic.partitions} partitions, at their original offsets`,
        `  event store: ${history.imported} events imported from ${history.topics.join(', ')} (${history.own} of ${dc}); ${history.movedAside} set aside by earlier verdicts; ${history.deadLettered} invalid records sent to the DLQ`,
        `  region: ${region.primary ?? region.effectivePrimary} is primary in epoch ${region.epoch}; ${dc} starts as ${role}`,
        `Start ${dc}'s replicator, control plane and gateways now.`,
      ].join('\n'),
    );
  } catch (error) {
    if (!(error instanceof RestoreRefused)) throw error;
    console.error(`dc:restore: refused: ${error.message}`);
    process.exitCode = EXIT_REFUSED;
  } finally {
    await ownProducer.disconnect().catch(() => undefined);
    await db.destroy();
  }
});
