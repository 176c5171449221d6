import { JsonLogger } from './logger';

export interface PollingLoopOptions {
  /** Names the loop in log lines. */
  name: string;
  logger: JsonLogger;
  /** One unit of work; returns how much it did (0: nothing to do, so the loop idles). */
  step: () => Promise<number>;
  idleMs?: number;
  maxBackoffMs?: number;
  /** Called after a failed step, before the back-off. */
  onError?: (error: Error) => void;
}

/**
 * Runs `step` until stopped: again at once while it finds work, after `idleMs`
 * when it finds none, and with exponential back-off after a failure, logging
 * the failure and the recovery. `stop()` wakes a sleeping loop and waits for it.
 */
export class PollingLoop {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  lastError: string | null = null;
  private eagerUntil = 0;

  constructor(private readonly options: PollingLoopOptions) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loop;
  }

  /**
   * Ends an idle wait early: new work is known to be there. With
   * `expectForMs`, the work may not be visible yet (a reader of the event
   * store waits for older transactions to end), so for that long an idle step
   * is retried after 2 ms rather than after `idleMs`.
   */
  wake(expectForMs = 0): void {
    if (expectForMs > 0) this.eagerUntil = Math.max(this.eagerUntil, Date.now() + expectForMs);
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    const { logger, name } = this.options;
    let backoffMs = 200;
    while (this.running) {
      try {
        const done = await this.options.step();
        if (this.lastError) logger.info(`${name} recovered`, { after: this.lastError });
        this.lastError = null;
        backoffMs = 200;
        if (done === 0) await this.sleep(Date.now() < this.eagerUntil ? 2 : (this.options.idleMs ?? 50));
      } catch (error) {
        this.lastError = (error as Error).message;
        this.options.onError?.(error as Error);
        logger.warn(`${name} failed; retrying`, { error: this.lastError, retryInMs: backoffMs });
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, this.options.maxBackoffMs ?? 5000);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
