/**
 * `npm start`: the local two-DC stack, a sample upstream and a demo seeded
 * through the GraphQL API. Prints its endpoints and a walkthrough, writes them
 * to .run/stack.json, and stops everything it started on Ctrl-C.
 */
import { join } from 'node:path';
import { repoRoot } from '../tools/infra/repo-root';
import { LocalStack } from '../tools/stack/stack';
import { walkthrough } from '../tools/stack/walkthrough';

const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
const stack = new LocalStack({ runDir: join(repoRoot(), '.run', 'stack'), log });

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log('stopping the stack...');
  await stack.stop();
  log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

stack
  .start()
  .then((description) => {
    console.log(walkthrough(description, stack.demo!, { ...stack.admin, fromEnv: process.env.APIM_ADMIN_PASSWORD !== undefined }));
    // The children are detached and unreferenced: keep this process (their owner) alive until a signal.
    setInterval(() => undefined, 1 << 30);
  })
  .catch(async (error: Error) => {
    if (stopping) return; // Ctrl-C during the start: shutdown() is under way.
    console.error(`npm start failed: ${error.message}`);
    await shutdown(1);
  });
