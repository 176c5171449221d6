/** Defaults that `api.created` v1 never carried (docs/events.md). */
export const API_CREATED_V1_DEFAULTS = { upstreamTimeoutMs: 30_000, visibility: 'public' } as const;

/** `api.created` v1 -> v2: one upstream becomes a list of one; timeout and visibility take their defaults. */
export function apiCreatedV1ToV2(payload: Record<string, unknown>): Record<string, unknown> {
  const { name, version, context, upstreamUrl, operations, tiers } = payload;
  return {
    name,
    version,
    context,
    upstreamUrls: [upstreamUrl],
    upstreamTimeoutMs: API_CREATED_V1_DEFAULTS.upstreamTimeoutMs,
    operations,
    tiers,
    visibility: API_CREATED_V1_DEFAULTS.visibility,
  };
}
