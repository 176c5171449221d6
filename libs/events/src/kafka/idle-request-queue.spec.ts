import { scheduleCheckPendingRequests } from './idle-request-queue';

// kafkajs' own class: the replacement is installed only by kafkajs-patches, which no spec imports.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as new (options: object) => Queue;

interface Queue {
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  maybeThrottle(ms: number): void;
  push(request: object): void;
  fulfillRequest(response: object): void;
  destroy(): void;
}

const silent = { debug: () => undefined, warn: () => undefined, error: () => undefined, info: () => undefined };

function queue(patched: boolean, maxInFlightRequests = 1): Queue {
  const q = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 't',
    broker: 'b',
    logger: silent,
  });
  if (patched) q.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return q;
}

function request(correlationId: number, sent: number[]): object {
  return {
    entry: { correlationId, resolve: () => undefined, reject: () => undefined },
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("kafkajs' request queue without its idle timer", () => {
  it('kafkajs 2.2.4 re-arms a timer with nothing pending (the bug: a 1 ms loop per connection)', () => {
    const q = queue(false);
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    q.destroy();
  });

  it('arms no timer with nothing pending and no throttle', () => {
    const q = queue(true);
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request held back by the in-flight limit as soon as the one before it is answered, and then stops checking', async () => {
    const q = queue(true);
    const sent: number[] = [];
    q.push(request(1, sent));
    q.push(request(2, sent));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    // The check armed when request 2 was held back fires once (10 ms), finds nothing, and arms no other.
    await sleep(30);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request held back by a broker throttle once the throttle ends, with no response to wake it', async () => {
    const q = queue(true, 10);
    const sent: number[] = [];
    q.maybeThrottle(30);
    q.push(request(1, sent));
    expect(sent).toEqual([]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await sleep(80);
    expect(sent).toEqual([1]);
    q.destroy();
  });
});
