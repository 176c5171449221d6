import type { JsonLogger } from './logger';

/**
 * On SIGTERM or SIGINT, runs `stop` once and exits 0 (1 if it fails). `on`,
 * not `once`: a second signal (a supervisor repeating itself, a process group
 * signalled twice) must not take the default action and kill the process in
 * the middle of its shutdown (a gateway's snapshot, a replicator's transaction).
 */
export function stopOnSignals(logger: JsonLogger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
