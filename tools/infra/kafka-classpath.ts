import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo-root';

/** The pom that pins the Kafka release; the single source of the version. */
export function kafkaPom(): string {
  return join(repoRoot(), 'docker', 'kafka', 'pom.xml');
}

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(kafkaPom(), 'utf8'));
  if (!match) throw new Error(`${kafkaPom()} has no <kafka.version> property`);
  return match[1];
}

/** Where resolved broker jars live between runs (outside the repository). */
export function kafkaCacheDir(version = kafkaVersion()): string {
  const base = process.env.APIM_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'apim');
  return join(base, `kafka-${version}`);
}

/**
 * Returns a folder holding a runnable Kafka classpath, resolving it from Maven
 * Central through docker/kafka/pom.xml the first time. The copy lands in a
 * temporary folder and is renamed into place, so an interrupted download is
 * never mistaken for a complete one.
 */
export function ensureKafkaClasspath(log: (line: string) => void = () => undefined): string {
  const version = kafkaVersion();
  const libs = join(kafkaCacheDir(version), 'libs');
  if (existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'))) return libs;

  const partial = `${libs}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  log(`resolving Apache Kafka ${version} from Maven Central (first run only)...`);
  try {
    execFileSync(
      'mvn',
      ['-q', '-B', '-f', kafkaPom(), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${partial}`],
      { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    const out = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    const detail = `${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`could not resolve Kafka ${version} with Maven (is mvn on PATH?): ${out.message}\n${detail}`);
  }
  if (!existsSync(libs)) renameSync(partial, libs);
  else rmSync(partial, { recursive: true, force: true });
  return libs;
}
