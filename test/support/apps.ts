import { randomBytes } from 'node:crypto';

export { AppName, startAppProcess } from '../../tools/infra/app-process';
export { waitForHttp } from '../../tools/infra/wait-for-http';

/** Seals the control plane's signing keys in tests; random per run, like a real deployment's own. */
export const TEST_SECRET_KEY = randomBytes(32).toString('base64');
