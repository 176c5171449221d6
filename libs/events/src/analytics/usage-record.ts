import { isIsoDateTime } from '../catalogue/field-rules';
import { joinProblems } from '../catalogue/payload-validation';
import type { EncodedEvent } from '../codec';
import { HEADERS } from '../envelope';
import { isUuid } from '../event-id';
import { DC_ID_PATTERN } from '../runtime/dc-config';

/**
 * One request as a gateway saw it (DESIGN.md section 8), written to
 * `apim.analytics` with key = `apiId`. Records are telemetry, not events: they
 * carry no envelope and never enter the event store.
 */
export interface UsageRecord {
  /** UUID chosen by the gateway; a consumer counts each id once. */
  recordId: string;
  gatewayId: string;
  /** DC of the gateway that served the request. */
  dc: string;
  apiId: string;
  /** The calling application, or null when the request carried no valid credential. */
  applicationId: string | null;
  method: string;
  /** HTTP status sent to the client, 100..599. */
  status: number;
  /** Time from the request's arrival to the end of the response, in milliseconds (0..MAX_USAGE_LATENCY_MS). */
  latencyMs: number;
  requestBytes?: number;
  responseBytes?: number;
  /** When the request arrived: ISO-8601 with an offset, from 1970 to 9998. */
  at: string;
}

export type UsageRecordDecodeResult = { ok: true; record: UsageRecord } | { ok: false; reason: string };

/**
 * What a gateway sends now: the requests of one API and one application
 * (or none) that arrived in one UTC minute, counted over a second or so and
 * sent as one record (a record per request cost a third of the gateway's
 * CPU, and a row per request in the ingestor's seen-ids table). Several
 * summaries of one key and minute simply add up. `kind` tells it from a
 * per-request UsageRecord, which readers still take.
 */
export interface UsageSummary {
  kind: 'summary';
  /** UUID chosen by the gateway; a consumer counts each id once. */
  recordId: string;
  gatewayId: string;
  dc: string;
  apiId: string;
  applicationId: string | null;
  /** Start of the UTC minute in which the requests arrived (ISO-8601, seconds and milliseconds zero). */
  minute: string;
  requests: number;
  /** Of which answered 5xx, and 4xx. */
  errors: number;
  clientErrors: number;
  /** Sum and largest of the requests' latencies (arrival to end of response), in milliseconds. */
  latencyMsSum: number;
  latencyMsMax: number;
  requestBytes: number;
  responseBytes: number;
}

/** A usage record or a summary, as read from `apim.analytics`. */
export type UsageDecodeResult = { ok: true; usage: UsageRecord | UsageSummary } | { ok: false; reason: string };

/** The Kafka record of a summary: key = `apiId`, value = JSON, the same headers as a usage record. */
export function encodeUsageSummary(summary: UsageSummary): EncodedEvent {
  return {
    key: summary.apiId,
    value: Buffer.from(JSON.stringify(summary), 'utf8'),
    headers: usageRecordHeaders(summary.dc, summary.gatewayId),
  };
}

/** Reads a usage record or a summary (told apart by `kind`); never throws; reasons name fields and rules, never a value. */
export function decodeUsage(value: Buffer | null): UsageDecodeResult {
  const parsed = parseObject(value);
  if ('reason' in parsed) return { ok: false, reason: parsed.reason };
  const raw = parsed.raw;
  if (raw.kind === undefined) {
    const decoded = recordOf(raw);
    return decoded.ok ? { ok: true, usage: decoded.record } : decoded;
  }
  if (raw.kind !== 'summary') return { ok: false, reason: 'record.kind: must be "summary" when present' };
  const problems = summaryProblems(raw);
  if (problems.length > 0) return { ok: false, reason: joinProblems(problems) };
  return {
    ok: true,
    usage: {
      kind: 'summary',
      recordId: (raw.recordId as string).toLowerCase(),
      gatewayId: raw.gatewayId as string,
      dc: raw.dc as string,
      apiId: raw.apiId as string,
      applicationId: raw.applicationId as string | null,
      minute: new Date(Date.parse(raw.minute as string)).toISOString(),
      requests: raw.requests as number,
      errors: raw.errors as number,
      clientErrors: raw.clientErrors as number,
      latencyMsSum: raw.latencyMsSum as number,
      latencyMsMax: raw.latencyMsMax as number,
      requestBytes: raw.requestBytes as number,
      responseBytes: raw.responseBytes as number,
    },
  };
}

/** Header carrying the gateway's id, for filtering without parsing (`originDc` carries `dc`). */
export const USAGE_GATEWAY_HEADER = 'gatewayId';

const MAX_ID_LENGTH = 200;
/**
 * 1..200 characters, none of them a control character or a lone surrogate:
 * ids are stored as PostgreSQL text, which cannot hold NUL, and a record the
 * database refuses would stop the ingestor on every retry.
 */
const STORABLE_ID = /^[^\p{Cc}\p{Cs}]{1,200}$/u;
/** Upper bound of `latencyMs` (a day): keeps sums finite and flags a broken clock. */
export const MAX_USAGE_LATENCY_MS = 86_400_000;
/** `at` must fall in [1970, 9999): a timestamp PostgreSQL and Date both hold. */
const LATEST_AT_MS = Date.UTC(9999, 0, 1);
/** An HTTP method is an RFC 9110 token; custom methods (`PROPFIND`, `M-SEARCH`) are fine. */
const HTTP_METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;

/**
 * The Kafka record of a usage record: key = `apiId` (one API's records stay in
 * order on one partition), value = the record as JSON, headers `originDc` and
 * `gatewayId`. Does not validate: readers refuse what `decodeUsageRecord` refuses.
 */
export function encodeUsageRecord(record: UsageRecord): EncodedEvent {
  // The fields of UsageRecord only, always in this order; JSON.stringify leaves out the byte counts when undefined.
  const { recordId, gatewayId, dc, apiId, applicationId, method, status, latencyMs, requestBytes, responseBytes, at } = record;
  const json = JSON.stringify({
    recordId,
    gatewayId,
    dc,
    apiId,
    applicationId,
    method,
    status,
    latencyMs,
    requestBytes,
    responseBytes,
    at,
  });
  return { key: record.apiId, value: Buffer.from(json, 'utf8'), headers: usageRecordHeaders(record.dc, record.gatewayId) };
}

/** The headers of a usage record's Kafka record; one object can serve every record of a gateway. */
export function usageRecordHeaders(dc: string, gatewayId: string): Record<string, string> {
  return { [HEADERS.originDc]: dc, [USAGE_GATEWAY_HEADER]: gatewayId };
}

/**
 * Reads the value of an `apim.analytics` record. Returns a fresh record holding
 * only the fields of UsageRecord (`recordId` in lowercase), or the reason it was
 * refused (for the DLQ).
 * Fields it does not know are ignored rather than refused, so that gateways can
 * be upgraded to send more before every control plane reads it. Never throws;
 * reasons name fields and rules, never a value.
 */
export function decodeUsageRecord(value: Buffer | null): UsageRecordDecodeResult {
  const parsed = parseObject(value);
  if ('reason' in parsed) return { ok: false, reason: parsed.reason };
  return recordOf(parsed.raw);
}

function recordOf(raw: Record<string, unknown>): UsageRecordDecodeResult {
  const problems = recordProblems(raw);
  if (problems.length > 0) return { ok: false, reason: joinProblems(problems) };
  return {
    ok: true,
    record: {
      recordId: (raw.recordId as string).toLowerCase(),
      gatewayId: raw.gatewayId as string,
      dc: raw.dc as string,
      apiId: raw.apiId as string,
      applicationId: raw.applicationId as string | null,
      method: raw.method as string,
      status: raw.status as number,
      latencyMs: raw.latencyMs as number,
      ...(raw.requestBytes === undefined ? {} : { requestBytes: raw.requestBytes as number }),
      ...(raw.responseBytes === undefined ? {} : { responseBytes: raw.responseBytes as number }),
      at: raw.at as string,
    },
  };
}

const isId = (value: unknown) => typeof value === 'string' && STORABLE_ID.test(value);
const inRange = (value: unknown, min: number, max: number) => typeof value === 'number' && value >= min && value <= max;
const isCount = (value: unknown) => value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0);
const idRule = `must be a string of 1..${MAX_ID_LENGTH} characters without control characters`;
const isInstant = (value: unknown) => isIsoDateTime(value) && Date.parse(value) >= 0 && Date.parse(value) < LATEST_AT_MS;

/** A JSON object from a record's value, or why it is not one. */
function parseObject(value: Buffer | null): { raw: Record<string, unknown> } | { reason: string } {
  if (value === null || value === undefined) return { reason: 'record has no value' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { reason: 'value is not valid JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { reason: 'record: must be a JSON object' };
  return { raw: parsed as Record<string, unknown> };
}

/** A rule checker whose problems name the field, never its value. */
function checker<F extends string>(): { problems: string[]; require: (ok: boolean, field: F, rule: string) => void } {
  const problems: string[] = [];
  return { problems, require: (ok, field, rule) => (ok ? undefined : void problems.push(`record.${field}: ${rule}`)) };
}

/** The fields every usage record and summary has: who served what, for whom. */
function originProblems(
  raw: Record<string, unknown>,
  require: (ok: boolean, field: 'recordId' | 'gatewayId' | 'dc' | 'apiId' | 'applicationId', rule: string) => void,
): void {
  require(isUuid(raw.recordId), 'recordId', 'must be a UUID');
  require(isId(raw.gatewayId), 'gatewayId', idRule);
  require(typeof raw.dc === 'string' && DC_ID_PATTERN.test(raw.dc), 'dc', `must match ${DC_ID_PATTERN.source}`);
  require(isId(raw.apiId), 'apiId', idRule);
  require(raw.applicationId === null || isId(raw.applicationId), 'applicationId', `${idRule}, or null`);
}

function summaryProblems(raw: Record<string, unknown>): string[] {
  const { problems, require } = checker<keyof UsageSummary>();
  originProblems(raw, require);
  const isWhole = (value: unknown) => value !== undefined && isCount(value);
  const minute = Date.parse(raw.minute as string);
  require(isInstant(raw.minute) &&
    minute % 60_000 === 0, 'minute', 'must be an ISO-8601 date-time at the start of a minute, from 1970 to 9998');
  require(isWhole(raw.requests) && (raw.requests as number) >= 1, 'requests', 'must be an integer >= 1');
  require(isWhole(raw.errors) && (raw.errors as number) <= (raw.requests as number), 'errors', 'must be an integer 0..requests');
  const errors = (raw.errors as number) + (raw.clientErrors as number);
  require(isWhole(raw.clientErrors) && errors <= (raw.requests as number), 'clientErrors', 'must be an integer 0..requests - errors');
  const maxSum = MAX_USAGE_LATENCY_MS * (typeof raw.requests === 'number' ? raw.requests : 0);
  require(inRange(raw.latencyMsSum, 0, maxSum), 'latencyMsSum', `must be a number 0..requests x ${MAX_USAGE_LATENCY_MS}`);
  const max = raw.latencyMsMax as number;
  require(inRange(max, 0, MAX_USAGE_LATENCY_MS) &&
    max <= (raw.latencyMsSum as number), 'latencyMsMax', `must be a number 0..${MAX_USAGE_LATENCY_MS}, at most the sum`);
  require(isWhole(raw.requestBytes), 'requestBytes', 'must be an integer >= 0');
  require(isWhole(raw.responseBytes), 'responseBytes', 'must be an integer >= 0');
  return problems;
}

function recordProblems(raw: Record<string, unknown>): string[] {
  const { problems, require } = checker<keyof UsageRecord>();
  originProblems(raw, require);
  require(typeof raw.method === 'string' && HTTP_METHOD.test(raw.method), 'method', 'must be an HTTP method token of 1..32 characters');
  require(Number.isInteger(raw.status) && inRange(raw.status, 100, 599), 'status', 'must be an integer 100..599');
  require(inRange(raw.latencyMs, 0, MAX_USAGE_LATENCY_MS), 'latencyMs', `must be a number 0..${MAX_USAGE_LATENCY_MS}`);
  require(isCount(raw.requestBytes), 'requestBytes', 'must be an integer >= 0 when present');
  require(isCount(raw.responseBytes), 'responseBytes', 'must be an integer >= 0 when present');
  require(isInstant(raw.at), 'at', 'must be an ISO-8601 date-time with an offset, from 1970 to 9998');
  return problems;
}
