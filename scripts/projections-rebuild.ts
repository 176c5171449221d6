/**
 * `npm run projections:rebuild -- <name>... | --all`: empties the named read
 * models and rebuilds them from the event store, printing progress.
 * Needs DATABASE_URL. Exit codes: 0 done, 2 bad usage, 78 bad configuration, 1 failure.
 */
import { Matches } from 'class-validator';
import { JsonLogger, loadConfig, runMain } from '@apim/events';
import { createDataSource, runMigrationsLocked } from '../apps/control-plane/src/infrastructure/database/data-source';
import { allProjections } from '../apps/control-plane/src/infrastructure/projections/catalogue';
import { ProjectionRunner } from '../apps/control-plane/src/infrastructure/projections/projection-runner';

class RebuildConfig {
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL!: string;
}

runMain('projections:rebuild', async () => {
  const known = allProjections().map((p) => p.name);
  const args = process.argv.slice(2);
  const names = args.includes('--all') ? known : args;
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    console.error(
      `usage: npm run projections:rebuild -- <name>... | --all\n${unknown.length ? `unknown: ${unknown.join(', ')}\n` : ''}known: ${known.join(', ')}`,
    );
    process.exit(2);
  }
  const config = loadConfig(RebuildConfig);
  const dataSource = await createDataSource(config.DATABASE_URL, { poolSize: 2, applicationName: 'apim-projections-rebuild' }).initialize();
  await runMigrationsLocked(dataSource);
  try {
    const runner = new ProjectionRunner(
      dataSource,
      allProjections().filter((p) => names.includes(p.name)),
      new JsonLogger({ service: 'projections-rebuild' }, 'warn'),
      { batchSize: 1000 },
    );
    for (const name of names) {
      await runner.reset(name);
      console.log(`${name}: emptied, rebuilding...`);
    }
    const started = Date.now();
    await runner.catchUp((name, applied) => console.log(`${name}: ${applied} events applied`));
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; lag ${JSON.stringify(await runner.lag())}`);
  } finally {
    await dataSource.destroy();
  }
});
