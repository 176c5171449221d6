/** Telemetry records of `apim.heartbeats` share one topic; each kind has its own decoder built on these. */

/** The record as a JSON object, or why it is not one. */
export function parseHeartbeatObject(value: Buffer | null): { raw: Record<string, unknown> } | { ok: false; reason: string } {
  try {
    const parsed: unknown = JSON.parse(value?.toString('utf8') ?? '');
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      return { ok: false, reason: 'heartbeat: must be a JSON object' };
    return { raw: parsed as Record<string, unknown> };
  } catch {
    return { ok: false, reason: 'value is not valid JSON' };
  }
}

/** Collects `heartbeat.<field>: <rule>` problems. */
export function heartbeatProblems(): { problems: string[]; require: (ok: boolean, field: string, rule: string) => void } {
  const problems: string[] = [];
  return {
    problems,
    require: (ok, field, rule) => {
      if (!ok) problems.push(`heartbeat.${field}: ${rule}`);
    },
  };
}

/** A non-negative safe integer. */
export const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** A Kafka offset as a decimal string. */
export const OFFSET = /^\d{1,20}$/;
