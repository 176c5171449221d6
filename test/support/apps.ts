import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GuardedProcess } from '../../tools/infra/guarded-process';
import { repoRoot } from '../../tools/infra/repo-root';

/** Seals the control plane's signing keys in tests; random per run, like a real deployment's own. */
export const TEST_SECRET_KEY = randomBytes(32).toString('base64');

export type AppName = 'control-plane' | 'gateway-worker' | 'replicator';

/** A compiled app (npm test builds first) run as a real process, its output in `logFile`. */
export function startAppProcess(app: AppName, env: Record<string, string>, logFile: string): GuardedProcess {
  return new GuardedProcess(process.execPath, [join(repoRoot(), 'dist', 'apps', app, 'src', 'main.js')], {
    logFile,
    env: { PATH: process.env.PATH, ...env },
  });
}

/** Polls `GET url` until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return response;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
