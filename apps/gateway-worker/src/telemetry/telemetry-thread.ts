import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Message } from 'kafkajs';
import { JsonLogger, KafkaSecurity, LogLevel, within } from '@apim/events';
import { UsageBatch, UsageBatchWriter, UsageFields } from './usage-batch';

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
export type ToTelemetryThread =
  { kind: 'usage'; batch: UsageBatch } | { kind: 'record'; topic: string; message: Message } | { kind: 'stop'; graceMs: number };

/** The telemetry thread's counters: usage records it took, and its producer's sent, buffered and dropped. */
interface ThreadCounters {
  received: number;
  sent: number;
  buffered: number;
  dropped: number;
}

/** From the telemetry thread: its counters after each batch and every 250 ms, and the end of a stop. */
export type FromTelemetryThread = ({ kind: 'stats' } & ThreadCounters) | { kind: 'stopped' };

const NO_COUNTS: ThreadCounters = { received: 0, sent: 0, buffered: 0, dropped: 0 };

/** Counters of a telemetry sender, as `/metrics` shows them. */
export interface TelemetryStats {
  readonly sent: number;
  readonly buffered: number;
  readonly dropped: number;
  /** Threads started again because one ended. */
  readonly restarts: number;
}

const USAGE_BATCH = 1024;
/** How often a part-filled batch of usage records is handed over. */
const HAND_OVER_MS = 20;
/** Usage records handed over but not yet taken by the thread, at most; past this new ones are dropped (and counted). */
const MAX_IN_FLIGHT = 50_000;
const RESPAWN_MS = 1000;

/**
 * Usage records, heartbeats and dead letters are sent to Kafka by a thread of
 * their own (`telemetry-worker.ts`), so that encoding them into Kafka
 * requests never holds up a proxied request: that work was ~14 % of the
 * gateway's event loop, and a request of 1,000 records held it up ~2 ms. The
 * request path only writes eight numbers per request (`usage-batch.ts`).
 * Telemetry is not events: a thread that dies loses what it held (counted as
 * dropped) and is started again.
 */
export class TelemetryThread implements TelemetryStats {
  private worker?: Worker;
  private readonly writer = new UsageBatchWriter(USAGE_BATCH);
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private stopped?: () => void;
  /** Usage records posted to the current thread (those it has not reported received are in flight). */
  private posted = 0;
  private thread: ThreadCounters = NO_COUNTS;
  private droppedHere = 0;
  /** Sent by threads that ended. */
  private sentBefore = 0;
  restarts = 0;
  /** When a full hand-over queue was last logged (at most once a minute). */
  private overflowLoggedAt = 0;

  /** @param workerFile the thread's compiled code; tests, which load this module from source, point it at `dist`. */
  constructor(
    private readonly data: TelemetryThreadData,
    private readonly logger: JsonLogger,
    private readonly workerFile = join(__dirname, 'telemetry-worker.js'),
  ) {}

  get sent(): number {
    return this.sentBefore + this.thread.sent;
  }

  get buffered(): number {
    return this.writer.size + this.inFlight + this.thread.buffered;
  }

  get dropped(): number {
    return this.droppedHere + this.thread.dropped;
  }

  private get inFlight(): number {
    return this.posted - this.thread.received;
  }

  start(): void {
    this.spawn();
    this.timer = setInterval(() => this.handOver(), HAND_OVER_MS);
    this.timer.unref();
  }

  /** One proxied request, on the request path: a few numbers written, nothing else. */
  usage(fields: UsageFields): void {
    if (this.writer.add(fields)) this.handOver();
  }

  /** A heartbeat or a dead letter: rare, posted as it is. */
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

  private handOver(): void {
    const batch = this.writer.take();
    if (!batch) return;
    if (!this.worker) {
      // No thread until the next one starts: its batches will bring every string they use.
      this.droppedHere += batch.count;
      this.writer.forget();
      return;
    }
    if (this.inFlight + batch.count > MAX_IN_FLIGHT) {
      // The records go, but never the strings: the thread's table must stay the writer's.
      this.droppedHere += batch.count;
      if (Date.now() - this.overflowLoggedAt > 60_000) {
        this.overflowLoggedAt = Date.now();
        this.logger.warn('the telemetry thread is behind; usage records are being dropped', { inFlight: this.inFlight });
      }
      batch.count = 0;
      batch.data = new Float64Array(0);
    }
    this.posted += batch.count;
    this.post({ kind: 'usage', batch }, [batch.data.buffer as ArrayBuffer]);
  }

  private post(message: ToTelemetryThread, transfer: ArrayBuffer[] = []): void {
    this.worker!.postMessage(message, transfer);
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
      // What it held is lost; the writer's string table starts again with the new thread.
      this.droppedHere += this.thread.buffered + this.inFlight + this.thread.dropped;
      this.sentBefore += this.thread.sent;
      this.thread = NO_COUNTS;
      this.posted = 0;
      this.worker = undefined;
      this.droppedHere += this.writer.take()?.count ?? 0;
      this.writer.forget();
      this.logger.error('telemetry thread ended; starting another', { code });
      setTimeout(() => {
        if (this.stopping) return;
        this.restarts++;
        this.spawn();
      }, RESPAWN_MS).unref();
    });
  }
}
