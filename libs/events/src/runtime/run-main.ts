import { ConfigError } from './config';

/** Exit code for a configuration error (EX_CONFIG from sysexits.h). */
export const EXIT_CONFIG = 78;

/**
 * Runs a process's start-up and turns failures into an exit code scripts can
 * trust: 78 for bad configuration (the message names the variables), 1 otherwise.
 */
export function runMain(service: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    const config = error instanceof ConfigError;
    const message = config ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${service}: ${message}\n`);
    process.exit(config ? EXIT_CONFIG : 1);
  });
}
