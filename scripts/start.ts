/**
 * `npm start`: the local two-DC stack. Prints its endpoints, writes them to
 * .run/stack.json, and stops everything it started on Ctrl-C.
 */
import { join } from 'node:path';
import { repoRoot } from '../tools/infra/repo-root';
import { LocalStack } from '../tools/stack/stack';

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
    console.log('\nThe local two-DC stack is up (Ctrl-C stops it):\n');
    for (const dc of description.dcs) {
      console.log(`  ${dc.dc}`);
      console.log(`    control plane  ${dc.controlPlane}   (GraphQL ${dc.graphql})`);
      console.log(`    gateway        ${dc.gateway}`);
      console.log(`    replicator     ${dc.replicator}`);
      console.log(`    kafka          ${dc.kafka}`);
      console.log(`    database       ${dc.database}`);
    }
    console.log(`\n  try: curl ${description.dcs[0].controlPlane}/healthz`);
    console.log(`  endpoints written to .run/stack.json\n`);
    // The children are detached and unreferenced: keep this process (their owner) alive until a signal.
    setInterval(() => undefined, 1 << 30);
  })
  .catch(async (error: Error) => {
    console.error(`npm start failed: ${error.message}`);
    await shutdown(1);
  });
