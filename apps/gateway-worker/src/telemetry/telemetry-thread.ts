import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Message } from 'kafkajs';
import { encodeUsageSummary, JsonLogger, KafkaSecurity, LogLevel, TOPICS, within } from '@apim/events';
import { UsageFields, UsageSummaries } from './usage-summaries';

/** What the telemetry thread needs to know at start (`workerData`). */
export interface TelemetryThreadData {
  brokers: string[];
  clientId: string;
  gatewayId: string;
  dc: string;
  logLevel: LogLevel;
  security: KafkaSecurity;
}

/** From the event loop to the telemetry thread. */
export type ToTelemetryThread = { kind: 'record'; topic: string; message: Message } | { kind: 'stop'; graceMs: number };

/** The telemetry thread's counters: its producer's sent, buffered and dropped. */
interface ThreadCounters {
  sent: number;
  buffered: number;
  dropped: number;
}

/** From the telemetry thread: its counters every 250 ms and at the end of a stop, then the end of the stop. */
export type FromTelemetryThread = ({ kind: 'stats' } & ThreadCounters) | { kind: 'stopped' };

const NO_COUNTS: ThreadCounters = { sent: 0, buffered: 0, dropped: 0 };

/** Counters of a telemetry sender, as `/metrics` shows them. */
export interface TelemetryStats {
  readonly sent: number;
  readonly buffered: number;
  readonly dropped: number;
  /** Threads started again because one ended. */
  readonly restarts: number;
}

/** How often the usage summed since the last time is handed over, as one summary per API and application. */
const HAND_OVER_MS = 1000;
const RESPAWN_MS = 1000;

/**
 * Usage summaries, heartbeats and dead letters are sent to Kafka by a thread
 * of their own (`telemetry-worker.ts`), so that encoding them into Kafka
 * requests never holds up a proxied request. The request path only adds a
 * request to the counts of its API and application (`usage-summaries.ts`);
 * once a second each key with requests becomes one summary. Telemetry is not
 * events: a thread that dies loses what it held (counted as dropped) and is
 * started again.
 */
export class TelemetryThread implements TelemetryStats {
  private worker?: Worker;
  private readonly summaries: UsageSummaries;
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private stopped?: () => void;
  private thread: ThreadCounters = NO_COUNTS;
  private droppedHere = 0;
  /** Sent by threads that ended. */
  private sentBefore = 0;
  restarts = 0;

  /** @param workerFile the thread's compiled code; tests, which load this module from source, point it at `dist`. */
  constructor(
    private readonly data: TelemetryThreadData,
    private readonly logger: JsonLogger,
    private readonly workerFile = join(__dirname, 'telemetry-worker.js'),
  ) {
    this.summaries = new UsageSummaries({ gatewayId: data.gatewayId, dc: data.dc });
  }

  get sent(): number {
    return this.sentBefore + this.thread.sent;
  }

  get buffered(): number {
    return this.summaries.size + this.thread.buffered;
  }

  get dropped(): number {
    return this.droppedHere + this.thread.dropped;
  }

  start(): void {
    this.spawn();
    this.timer = setInterval(() => this.handOver(), HAND_OVER_MS);
    this.timer.unref();
  }

  /** One proxied request, on the request path: added to its API's and application's counts, nothing else. */
  usage(fields: UsageFields): void {
    this.summaries.add(fields);
  }

  /** A heartbeat, a dead letter or a usage summary: rare, posted as it is. */
  enqueue(topic: string, message: Message): void {
    if (!this.worker) {
      this.droppedHere++;
      return;
    }
    this.post({ kind: 'record', topic, message });
  }

  /** Hands over what is left, lets the thread send it (at most `graceMs`) and ends it. */
  async stop(graceMs = 3000): Promise<void> {
    clearInterval(this.timer);
    this.handOver();
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => (this.stopped = resolve));
    this.post({ kind: 'stop', graceMs });
    await within(graceMs + 1000, stopped);
    await worker.terminate();
    this.worker = undefined;
  }

  /** The usage summed since the last hand-over, one summary per API and application. */
  private handOver(): void {
    for (const summary of this.summaries.take()) this.enqueue(TOPICS.analytics, encodeUsageSummary(summary));
  }

  private post(message: ToTelemetryThread): void {
    this.worker!.postMessage(message);
  }

  private spawn(): void {
    const file = this.workerFile;
    if (!existsSync(file)) throw new Error(`the telemetry thread's code is missing: ${file} (run npm run build)`);
    const worker = new Worker(file, { workerData: this.data });
    this.worker = worker;
    worker.on('message', (message: FromTelemetryThread) => {
      if (message.kind === 'stopped') return this.stopped?.();
      this.thread = message;
    });
    worker.on('error', (error) => this.logger.error('telemetry thread failed', { error: error.message }));
    worker.on('exit', (code) => {
      if (this.stopping) return;
      // What it held is lost.
      this.droppedHere += this.thread.buffered + this.thread.dropped;
      this.sentBefore += this.thread.sent;
      this.thread = NO_COUNTS;
      this.worker = undefined;
      this.logger.error('telemetry thread ended; starting another', { code });
      setTimeout(() => {
        if (this.stopping) return;
        this.restarts++;
        this.spawn();
      }, RESPAWN_MS).unref();
    });
  }
}
