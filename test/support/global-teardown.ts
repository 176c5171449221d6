import { rmSync } from 'node:fs';
import { TestInfra } from './test-env';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis as unknown as { __apimInfra?: TestInfra };
  const infra = state.__apimInfra;
  if (!infra) return;
  await Promise.all(infra.clusters.map((cluster) => cluster.stop()));
  for (const cluster of infra.clusters) rmSync(cluster.dataDir, { recursive: true, force: true });
  await infra.postgres.stop();
}
