import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (the folder with nest-cli.json), from the sources or from their compiled copy in dist/. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'nest-cli.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nest-cli.json above ${from}`);
    dir = parent;
  }
  return dir;
}
