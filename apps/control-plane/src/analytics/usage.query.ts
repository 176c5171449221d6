import { DomainError } from '@apim/domain';
import { Queryable } from '../infrastructure/event-store/event-store';

/** The longest range one `usage` query may cover. */
export const MAX_USAGE_RANGE_MS = 31 * 24 * 3600 * 1000;

export interface UsageParams {
  apiId: string;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  /** Only this application's requests; `''` selects requests made without one. */
  applicationId?: string;
}

export interface UsageReport {
  apiId: string;
  from: Date;
  to: Date;
  requests: number;
  /** Responses with a status >= 500. */
  errors: number;
  /** Responses with a status 400..499. */
  clientErrors: number;
  /** Null when there was no request. */
  averageLatencyMs: number | null;
  maxLatencyMs: number | null;
  /** Minutes with at least one request, oldest first. */
  byMinute: { minute: Date; requests: number; errors: number }[];
  /** Requests by the DC of the gateway that served them, by DC name. */
  byDc: { dc: string; requests: number }[];
}

interface UsageRow {
  slice: number;
  minute: Date | string | null;
  dc: string | null;
  requests: number | null;
  errors: number | null;
  client_errors: number | null;
  latency_ms_sum: number | null;
  latency_ms_max: number | null;
}

/** GROUPING(minute, dc): which grouping set a row belongs to. */
const BY_MINUTE = 1;
const BY_DC = 2;
const TOTAL = 3;

/**
 * Usage of one API over [from, to), read from the per-minute buckets of
 * rm_usage (a bucket counts when its minute starts in the range). Totals and
 * both breakdowns come from one statement, so they always agree.
 * Throws a BAD_USER_INPUT DomainError for an empty, inverted or too long range.
 */
export async function usage(db: Queryable, params: UsageParams): Promise<UsageReport> {
  const { apiId, from, to, applicationId } = params;
  checkRange(from, to);
  const filters = [apiId, from.toISOString(), to.toISOString()];
  if (applicationId !== undefined) filters.push(applicationId);
  const rows = (await db.query(
    `SELECT GROUPING(minute, dc) AS slice, minute, dc,
            sum(requests)::float8 AS requests, sum(errors)::float8 AS errors, sum(client_errors)::float8 AS client_errors,
            sum(latency_ms_sum) AS latency_ms_sum, max(latency_ms_max) AS latency_ms_max
       FROM rm_usage
      WHERE api_id = $1 AND minute >= $2 AND minute < $3 ${applicationId !== undefined ? 'AND application_id = $4' : ''}
      GROUP BY GROUPING SETS ((minute), (dc), ())
      ORDER BY minute, dc`,
    filters,
  )) as UsageRow[];

  const total = rows.find((row) => row.slice === TOTAL);
  const requests = total?.requests ?? 0;
  return {
    apiId,
    from,
    to,
    requests,
    errors: total?.errors ?? 0,
    clientErrors: total?.client_errors ?? 0,
    averageLatencyMs: requests > 0 ? (total?.latency_ms_sum ?? 0) / requests : null,
    maxLatencyMs: requests > 0 ? (total?.latency_ms_max ?? null) : null,
    byMinute: rows
      .filter((row) => row.slice === BY_MINUTE)
      .map((row) => ({ minute: new Date(row.minute!), requests: row.requests ?? 0, errors: row.errors ?? 0 })),
    byDc: rows.filter((row) => row.slice === BY_DC).map((row) => ({ dc: row.dc!, requests: row.requests ?? 0 })),
  };
}

function checkRange(from: Date, to: Date): void {
  const valid = (date: Date) => date instanceof Date && !Number.isNaN(date.getTime());
  if (!valid(from) || !valid(to)) throw DomainError.badInput('USAGE.INVALID_RANGE', 'from and to must be valid date-times', ['from', 'to']);
  if (from.getTime() >= to.getTime()) throw DomainError.badInput('USAGE.INVALID_RANGE', 'from must be before to', ['from', 'to']);
  if (to.getTime() - from.getTime() > MAX_USAGE_RANGE_MS)
    throw DomainError.badInput('USAGE.RANGE_TOO_LONG', 'the range from..to must not be longer than 31 days', ['from', 'to']);
}
