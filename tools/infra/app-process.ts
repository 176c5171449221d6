import { join } from 'node:path';
import { GuardedProcess } from './guarded-process';
import { repoRoot } from './repo-root';

export type AppName = 'control-plane' | 'gateway-worker' | 'replicator';

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
