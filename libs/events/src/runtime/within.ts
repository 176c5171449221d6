/** Waits for `promise`, but no longer than `ms` (then resolves with undefined): for shutdown steps that must not hang. */
export function within(ms: number, promise: Promise<unknown>): Promise<unknown> {
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}
