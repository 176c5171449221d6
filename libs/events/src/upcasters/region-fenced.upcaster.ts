/** `region.fenced` v1 -> v2: a v1 fence named no successor, so it waits for an explicit promotion. */
export function regionFencedV1ToV2(payload: Record<string, unknown>): Record<string, unknown> {
  return { dc: payload.dc, epoch: payload.epoch, successor: null, eventsBefore: null };
}
