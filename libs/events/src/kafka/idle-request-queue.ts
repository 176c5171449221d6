/**
 * kafkajs 2.2.4's request queue re-arms a timer after every check for
 * pending requests, even with nothing pending: `throttledUntil` is -1 when
 * not throttled, so the delay is negative, Node makes it 1 ms, and every
 * Kafka connection of every client polls its empty queue a thousand times a
 * second, for as long as it lives (kafkajs issues #1556, #1604, #1704; never
 * released). Measured on an idle gateway: 4 % of a core on its event loop.
 *
 * The replacement schedules a check only when one can do something: requests
 * are pending (when the throttle ends, or in 10 ms as before), or a throttle is
 * in force. Nothing pending and no throttle needs no timer: `push` schedules one
 * when it has to hold a request back, and every response checks the queue.
 */
export interface RequestQueueLike {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

/** kafkajs' `CHECK_PENDING_REQUESTS_INTERVAL`. */
const CHECK_PENDING_MS = 10;

export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  let delay = this.throttledUntil - Date.now();
  if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_PENDING_MS;
  else if (delay <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}
