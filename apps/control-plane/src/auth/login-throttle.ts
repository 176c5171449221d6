import { LoginRateLimitedError } from './auth.errors';

/**
 * Failed logins per username in a sliding window, so that nobody can guess a
 * password by trying fast. In memory, per process: a restart or another
 * instance starts afresh, which bounds guessing rather than stopping it.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxAttempts: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  assertAllowed(username: string): void {
    const recent = this.recent(username);
    if (recent.length >= this.maxAttempts)
      throw new LoginRateLimitedError(Math.max(1, Math.ceil((recent[0] + this.windowMs - this.now()) / 1000)));
  }

  recordFailure(username: string): void {
    this.failures.set(username, [...this.recent(username), this.now()]);
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  recordSuccess(username: string): void {
    this.failures.delete(username);
  }

  private recent(username: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(username) ?? []).filter((at) => at > since);
  }
}
