import { ApiState } from '@apim/domain';
import { Executed, Loaded } from '../command-side/aggregate-repository';
import { Api } from './api.types';

/** The GraphQL view of an API right after a command, from the decider's state (no wait for the projection). */
export function apiView(id: string, result: Executed<ApiState, unknown> | Loaded<ApiState>): Api {
  const state = result.state;
  if (state.status === 'EMPTY') throw new Error(`API ${id} has no state`);
  const events = 'stored' in result ? [...result.before.events, ...result.stored] : result.events;
  return {
    id,
    name: state.name,
    version: state.version,
    context: state.context,
    state: state.status,
    upstreamUrls: state.upstreamUrls,
    upstreamTimeoutMs: state.upstreamTimeoutMs,
    operations: state.operations,
    tiers: state.tiers,
    visibility: state.visibility,
    throttlingPolicy: state.throttlingPolicy,
    homeDc: events[0]?.originDc ?? '',
    revision: result.version,
  };
}

export interface ApiRow {
  id: string;
  name: string;
  version: string;
  context: string;
  state: string;
  upstream_urls: string[];
  upstream_timeout_ms: number;
  operations: Api['operations'];
  tiers: string[];
  visibility: string;
  throttling_policy: string | null;
  home_dc: string;
  stream_version: number;
}

export function apiFromRow(row: ApiRow): Api {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    context: row.context,
    state: row.state,
    upstreamUrls: row.upstream_urls,
    upstreamTimeoutMs: row.upstream_timeout_ms,
    operations: row.operations,
    tiers: row.tiers,
    visibility: row.visibility,
    throttlingPolicy: row.throttling_policy,
    homeDc: row.home_dc,
    revision: row.stream_version,
  };
}
