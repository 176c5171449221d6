import { join } from 'node:path';
import { GuardedProcess } from './guarded-process';
import { repoRoot } from './repo-root';

export type AppName = 'control-plane' | 'gateway-worker' | 'replicator';

/** The variables of a replicator running in `dc` (cluster `brokers`) that pulls from `peer` (cluster `peerBrokers`). */
export function replicatorEnv(dc: string, brokers: string, peer: string, peerBrokers: string, port: number): Record<string, string> {
  return { DC_ID: dc, KAFKA_BROKERS: brokers, PEER_DCS: peer, PEER_KAFKA_BROKERS: `${peer}=${peerBrokers}`, PORT: String(port) };
}

/**
 * Node.js options each app runs with, here and in docker/ (keep them alike).
 * The gateway's young generation is larger than V8's default (16 MiB
 * semi-spaces): it allocates a little per request, and at thousands of
 * requests per second fewer scavenges cost ~10 % less CPU per request
 * (measured with bench:gateway-throughput), for up to 32 MiB more memory.
 */
export const APP_NODE_OPTIONS: Record<AppName, string[]> = {
  'control-plane': [],
  'gateway-worker': ['--max-semi-space-size=32'],
  replicator: [],
};

/**
 * A compiled app (`npm run build` first) run as a real process with only
 * `PATH` and `env` in its environment, its output in `logFile`. `nodeArgs` go
 * before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow).
 */
export function startAppProcess(app: AppName, env: Record<string, string>, logFile: string, nodeArgs: string[] = []): GuardedProcess {
  const args = [...APP_NODE_OPTIONS[app], ...nodeArgs, join(repoRoot(), 'dist', 'apps', app, 'src', 'main.js')];
  return new GuardedProcess(process.execPath, args, {
    logFile,
    env: { PATH: process.env.PATH, ...env },
  });
}
