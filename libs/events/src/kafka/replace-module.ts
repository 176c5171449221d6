/**
 * Replaces one of kafkajs' internal modules in Node's module cache, before
 * kafkajs loads it, so that kafkajs' own `require` gets the replacement.
 * Used for fixes to kafkajs 2.2.4, which is unmaintained since 2023.
 *
 * `loadedTooLate` names a kafkajs module that requires `path` when it loads:
 * if it is already loaded, the replacement would silently do nothing for it,
 * so this throws instead (the patch must be the main module's first import).
 */
export function replaceKafkajsModule(patch: string, path: string, exports: unknown, loadedTooLate: string): void {
  const resolved = require.resolve(path);
  const dependent = require.resolve(loadedTooLate);
  if (require.cache[dependent] && require.cache[resolved]?.exports !== exports)
    throw new Error(`${patch} must be imported before kafkajs (first import of the main module)`);
  const cached = require.cache[resolved];
  if (cached) cached.exports = exports;
  else
    require.cache[resolved] = {
      id: resolved,
      filename: resolved,
      path: resolved,
      loaded: true,
      exports,
      children: [],
      paths: [],
    } as unknown as NodeJS.Module;
}
