import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { repoRoot } from '../infra/repo-root';

/**
 * The runtime image (docker/Dockerfile) keeps only `dependencies`: `npm prune
 * --omit=dev` removes the rest. Every package the apps and libs import at run
 * time must therefore be a dependency, or the image fails at start with
 * MODULE_NOT_FOUND, which no test on a development checkout would notice.
 */

const ROOT = repoRoot();
const RUNTIME_DIRS = ['apps', 'libs', 'migrations', 'scripts'];
const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'test') files.push(...sourceFiles(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

/** `lodash/fp` -> `lodash`, `@scope/pkg/x` -> `@scope/pkg`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Packages imported at run time (type-only imports are erased), with a file that imports each. */
function runtimeImports(): Map<string, string> {
  const builtins = new Set(builtinModules);
  const found = new Map<string, string>();
  for (const dir of RUNTIME_DIRS) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2];
        if (/^\s*(?:import|export)\s+type\s/.test(match[0].trimStart())) continue;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || specifier.startsWith('@apim/')) continue;
        const name = packageOf(specifier);
        if (builtins.has(name)) continue;
        if (!found.has(name)) found.set(name, relative(ROOT, file));
      }
    }
  }
  return found;
}

describe('the runtime image', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

  it('has every package the apps import among the dependencies that npm prune --omit=dev keeps', () => {
    const imports = runtimeImports();
    // The scan finds the packages the apps are known to use: a scan that found nothing would prove nothing.
    expect([...imports.keys()]).toEqual(expect.arrayContaining(['kafkajs', 'typeorm', '@nestjs/core', 'prom-client']));
    const missing = [...imports]
      .filter(([name]) => !(name in manifest.dependencies))
      .map(([name, file]) => `${name} (imported by ${file})`);
    expect(missing).toEqual([]);
  });
});
