import { join } from 'node:path';
import { GuardedProcess } from './guarded-process';
import { repoRoot } from './repo-root';

export type AppName = 'control-plane' | 'gateway-worker' | 'replicator';

/** The variables of a replicator running in `dc` (cluster `brokers`) that pulls from `peer` (cluster `peerBrokers`). */
export function replicatorEnv(dc: string, brokers: string, peer: string, peerBrokers: string, port: number): Record<string, string> {
  return { DC_ID: dc, KAFKA_BROKERS: brokers, PEER_DCS: peer, PEER_KAFKA_BROKERS: `${peer}=${peerBrokers}`, PORT: String(port) };
}

/**
 * A compiled app (`npm run build` first) run as a real process with only
 * `PATH` and `env` in its environment, its output in `logFile`. `nodeArgs` go
 * before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow).
 */
export function startAppProcess(app: AppName, env: Record<string, string>, logFile: string, nodeArgs: string[] = []): GuardedProcess {
  return new GuardedProcess(process.execPath, [...nodeArgs, join(repoRoot(), 'dist', 'apps', app, 'src', 'main.js')], {
    logFile,
    env: { PATH: process.env.PATH, ...env },
  });
}
