import { randomUUID } from 'node:crypto';
import { MAX_USAGE_LATENCY_MS, UsageRecord, UsageSummary } from '@apim/events';

/** What the request path knows about one proxied request: a usage record's fields, and when it arrived (epoch ms). */
export type UsageFields = Pick<UsageRecord, 'apiId' | 'applicationId' | 'status' | 'latencyMs'> & {
  requestBytes: number;
  responseBytes: number;
  startedAt: number;
};

/** A summary's counts, with its minute as epoch ms. */
type Counts = Omit<UsageSummary, 'kind' | 'recordId' | 'gatewayId' | 'dc' | 'apiId' | 'applicationId' | 'minute'> & { minute: number };

/**
 * Sums the requests of each API and application (or none) per UTC minute of
 * arrival, on the request path: a few additions per request, where a usage
 * record per request cost the gateway a third of its CPU (building, encoding
 * and sending it). `take()` hands over a summary per key with requests since
 * the last take, so every summary a gateway sends is new and the ingestor
 * adds them up.
 */
export class UsageSummaries {
  /** apiId -> applicationId ('' for none) -> counts of its current minute. */
  private readonly open = new Map<string, Map<string, Counts>>();
  /** Summaries of keys whose minute ended, waiting for the next take(). */
  private closed: UsageSummary[] = [];
  private pending = 0;

  constructor(private readonly origin: { gatewayId: string; dc: string }) {}

  /** Summaries that take() would return now. */
  get size(): number {
    return this.pending + this.closed.length;
  }

  add(fields: UsageFields): void {
    const minute = fields.startedAt - (fields.startedAt % 60_000);
    let ofApi = this.open.get(fields.apiId);
    if (!ofApi) this.open.set(fields.apiId, (ofApi = new Map()));
    const application = fields.applicationId ?? '';
    let counts = ofApi.get(application);
    if (counts && counts.requests > 0 && counts.minute !== minute) {
      this.closed.push(this.summary(fields.apiId, application, counts));
      counts.requests = 0;
      this.pending--;
    }
    if (!counts) ofApi.set(application, (counts = emptyCounts(minute)));
    if (counts.requests === 0) {
      Object.assign(counts, emptyCounts(minute));
      this.pending++;
    }
    const latencyMs = Math.min(Math.max(0, fields.latencyMs), MAX_USAGE_LATENCY_MS);
    counts.requests++;
    if (fields.status >= 500) counts.errors++;
    else if (fields.status >= 400) counts.clientErrors++;
    counts.latencyMsSum += latencyMs;
    if (latencyMs > counts.latencyMsMax) counts.latencyMsMax = latencyMs;
    counts.requestBytes += fields.requestBytes;
    counts.responseBytes += fields.responseBytes;
  }

  /** A summary of every key with requests since the last take; the counts start again. Keys without any are forgotten. */
  take(): UsageSummary[] {
    const taken = this.closed;
    this.closed = [];
    for (const [apiId, ofApi] of this.open) {
      for (const [application, counts] of ofApi) {
        if (counts.requests === 0) ofApi.delete(application);
        else {
          taken.push(this.summary(apiId, application, counts));
          counts.requests = 0;
        }
      }
      if (ofApi.size === 0) this.open.delete(apiId);
    }
    this.pending = 0;
    return taken;
  }

  private summary(apiId: string, application: string, counts: Counts): UsageSummary {
    return {
      kind: 'summary',
      recordId: randomUUID(),
      gatewayId: this.origin.gatewayId,
      dc: this.origin.dc,
      apiId,
      applicationId: application === '' ? null : application,
      minute: new Date(counts.minute).toISOString(),
      requests: counts.requests,
      errors: counts.errors,
      clientErrors: counts.clientErrors,
      latencyMsSum: counts.latencyMsSum,
      latencyMsMax: counts.latencyMsMax,
      requestBytes: counts.requestBytes,
      responseBytes: counts.responseBytes,
    };
  }
}

function emptyCounts(minute: number): Counts {
  return { minute, requests: 0, errors: 0, clientErrors: 0, latencyMsSum: 0, latencyMsMax: 0, requestBytes: 0, responseBytes: 0 };
}
