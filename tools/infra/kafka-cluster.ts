import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaClasspath } from './kafka-classpath';
import { freePort } from './free-port';
import { GuardedProcess } from './guarded-process';

const execFileAsync = promisify(execFile);

export interface KafkaClusterOptions {
  /** Short name used in logs and the data folder, e.g. `dc1`. */
  name: string;
  /** Folder for this cluster's data, config and log; kept across restarts. */
  dataDir: string;
  /** Client port; 0 picks a free one. */
  port?: number;
  /** Controller port; 0 picks a free one. */
  controllerPort?: number;
  /** JVM heap, e.g. `512m`. */
  heap?: string;
  /** Process whose death stops the broker too (default: this process). */
  ownerPid?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Clients must use TLS and SASL/PLAIN (listener SASL_SSL) instead of
   * plaintext: the broker's certificate (see kafka-tls.ts) and its users.
   */
  saslSsl?: { tls: BrokerCertificates; users: Record<string, string> };
  /** More `server.properties` lines, after (and over) ours, e.g. `{ 'default.replication.factor': '3' }`. */
  brokerProperties?: Record<string, string>;
}

/** A broker's TLS material: PKCS12 key and trust stores, their password, and the CA certificate clients trust (PEM). */
export interface BrokerCertificates {
  keystore: string;
  truststore: string;
  password: string;
  caPem: string;
}

/**
 * One single-node KRaft cluster (broker and controller in one JVM) run from
 * the Maven Central jars. Its process is the leader of its own process group
 * under tools/infra/process-guard.sh, so it dies with its owner at the latest.
 */
export class KafkaCluster {
  private process?: GuardedProcess;
  private portsChosen = false;
  private clusterId?: string;
  port: number;
  controllerPort: number;

  constructor(private readonly options: KafkaClusterOptions) {
    this.port = options.port ?? 0;
    this.controllerPort = options.controllerPort ?? 0;
  }

  get name(): string {
    return this.options.name;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get logFile(): string {
    return join(this.options.dataDir, 'broker.log');
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  /**
   * Formats storage on first use, starts the JVM and waits until it answers a
   * metadata request. Ports it picked itself are picked again when the JVM
   * finds one taken: a port free when checked can be taken before the JVM
   * binds it (by any process's outgoing connection). Only on the first start:
   * the clients of a restarted cluster know its ports.
   */
  async start(): Promise<void> {
    if (this.running) return;
    const firstStart = !this.portsChosen;
    for (let attempt = 1; ; attempt++) {
      if (!this.portsChosen) {
        if (!this.port) this.port = await freePort();
        if (!this.controllerPort) this.controllerPort = await freePort();
        this.portsChosen = true;
      }
      try {
        return await this.launch();
      } catch (error) {
        const picked = !this.options.port || !this.options.controllerPort;
        if (!firstStart || !picked || attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
        this.options.log?.(`Kafka ${this.name}: a picked port was taken before the broker bound it; picking again`);
        this.port = this.options.port ?? 0;
        this.controllerPort = this.options.controllerPort ?? 0;
        this.portsChosen = false;
      }
    }
  }

  private async launch(): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    const libs = ensureKafkaClasspath(log);
    const classpath = `${libs}/*`;
    const { dataDir } = this.options;
    mkdirSync(join(dataDir, 'logs'), { recursive: true });
    const props = join(dataDir, 'server.properties');
    writeFileSync(props, this.serverProperties());
    writeFileSync(join(dataDir, 'log4j.properties'), LOG4J_PROPERTIES);

    const clusterIdFile = join(dataDir, 'cluster.id');
    // An id with a leading '-' reads as an option to StorageTool, so the format always failed (1 cluster in 64):
    // such a file never got a formatted storage, and is replaced.
    if (!existsSync(clusterIdFile) || readFileSync(clusterIdFile, 'utf8').startsWith('-')) writeFileSync(clusterIdFile, newClusterId());
    const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
    this.clusterId = clusterId;
    const javaLogging = `-Dlog4j.configuration=file:${join(dataDir, 'log4j.properties')}`;
    try {
      await execFileAsync('java', [
        '-Xmx128m',
        javaLogging,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        props,
        '--ignore-formatted',
      ]);
    } catch (error) {
      const out = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`Kafka ${this.name}: storage format failed: ${out.message}\n${out.stdout ?? ''}${out.stderr ?? ''}`);
    }

    log(`starting Kafka ${this.name} on ${this.brokers}`);
    const heap = this.options.heap ?? '512m';
    const java = new GuardedProcess(
      'java',
      [
        '-Xms128m',
        `-Xmx${heap}`,
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        javaLogging,
        `-Dkafka.logs.dir=${dataDir}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        props,
      ],
      { logFile: this.logFile, ownerPid: this.options.ownerPid },
    );
    this.process = java;

    try {
      await this.waitUntilReady(this.options.startTimeoutMs ?? 90_000);
    } catch (error) {
      await this.stop();
      throw error;
    }
    log(`Kafka ${this.name} ready on ${this.brokers} (pid ${java.pid})`);
  }

  /** Stops the JVM (SIGTERM to its process group, SIGKILL after a grace period). Data stays. */
  async stop(graceMs = 30_000): Promise<void> {
    await this.process?.stop(graceMs);
    this.process = undefined;
  }

  /** The last lines of the broker's log, for error messages. */
  logTail(lines = 40): string {
    if (!existsSync(this.logFile)) return '(no log)';
    return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`Kafka ${this.name} exited during start-up. Log tail (${this.logFile}):\n${this.logTail()}`);
      }
      const kafka = new Kafka({
        clientId: 'apim-launcher',
        brokers: [this.brokers],
        ...this.clientSecurity(),
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 1000,
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        // Another cluster on the same port must not pass for this one.
        if (cluster.clusterId !== this.clusterId)
          lastError = new Error(`port ${this.port} answers as cluster ${cluster.clusterId}, not ${this.clusterId}`);
        else if (cluster.brokers.length > 0 && cluster.controller !== null) return;
      } catch (error) {
        lastError = error;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      await sleep(500);
    }
    throw new Error(
      `Kafka ${this.name} did not answer on ${this.brokers} within ${timeoutMs} ms (${String(lastError)}). Log tail:\n${this.logTail()}`,
    );
  }

  /** kafkajs options that reach this broker (as its first user when it requires SASL_SSL). */
  clientSecurity(): { ssl?: { ca: string[] }; sasl?: { mechanism: 'plain'; username: string; password: string } } {
    const secured = this.options.saslSsl;
    if (!secured) return {};
    const [username, password] = Object.entries(secured.users)[0];
    return { ssl: { ca: [secured.tls.caPem] }, sasl: { mechanism: 'plain', username, password } };
  }

  private serverProperties(): string {
    const secured = this.options.saslSsl;
    const listener = secured ? 'SASL_SSL' : 'PLAINTEXT';
    const security = secured
      ? [
          'sasl.enabled.mechanisms=PLAIN',
          'sasl.mechanism.inter.broker.protocol=PLAIN',
          // The broker is a client of its own listener too (transaction markers): it signs in as the first user.
          `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${jaasUsers(secured.users)};`,
          `ssl.keystore.location=${secured.tls.keystore}`,
          'ssl.keystore.type=PKCS12',
          `ssl.keystore.password=${secured.tls.password}`,
          `ssl.key.password=${secured.tls.password}`,
          `ssl.truststore.location=${secured.tls.truststore}`,
          'ssl.truststore.type=PKCS12',
          `ssl.truststore.password=${secured.tls.password}`,
        ]
      : [];
    return [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
      `listeners=${listener}://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=${listener}://127.0.0.1:${this.port}`,
      `inter.broker.listener.name=${listener}`,
      'controller.listener.names=CONTROLLER',
      `listener.security.protocol.map=CONTROLLER:PLAINTEXT,${listener}:${listener}`,
      ...security,
      `log.dirs=${join(this.options.dataDir, 'logs')}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      'num.recovery.threads.per.data.dir=1',
      'background.threads=2',
      'log.cleaner.threads=1',
      'log.cleaner.dedupe.buffer.size=8388608',
      ...Object.entries(this.options.brokerProperties ?? {}).map(([name, value]) => `${name}=${value}`),
      '',
    ].join('\n');
  }
}

const LOG4J_PROPERTIES = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.server.KafkaServer=INFO',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  'log4j.logger.kafka.server.BrokerServer=INFO',
  '',
].join('\n');

/** JAAS options of PlainLoginModule: the broker's own login (the first user), then every user it accepts. */
function jaasUsers(users: Record<string, string>): string {
  const [[username, password]] = Object.entries(users);
  const accepted = Object.entries(users).map(([name, secret]) => `user_${name}="${secret}"`);
  return [`username="${username}"`, `password="${password}"`, ...accepted].join(' ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Kafka cluster id (16 random bytes, base64url) that does not start with '-', as Kafka's own `Uuid.randomUuid` ensures. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
