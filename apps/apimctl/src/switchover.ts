import { ControlPlaneClient, CtlError, EXIT } from './control-planes';
import { fetchStatus, RegionRow, REGIONS } from './status';

const POLL_MS = 500;

/**
 * A planned switchover to `to`: asks the primary to fence itself (it stops
 * taking writes and records how many events it wrote), then waits until `to`
 * reports itself primary in a later epoch, which it does once it holds all of
 * them. Every DC must be reachable: with one lost, it is a failover.
 */
export async function switchover(
  clients: ControlPlaneClient[],
  to: string,
  waitMs: number,
  progress: (line: string) => void,
): Promise<RegionRow[]> {
  const target = clients.find((client) => client.dc === to);
  if (!target) throw new CtlError(`no endpoint for ${to}: it must be one of the control planes given`, EXIT.usage);
  const statuses = await fetchStatus(clients);
  const down = statuses.filter((status) => !status.reachable);
  if (down.length > 0)
    throw new CtlError(
      `a switchover needs every DC; unreachable: ${down.map((s) => s.error).join('; ')}. With a DC lost, use failover --to`,
      EXIT.unreachable,
    );
  const primaryDc = statuses.find((s) => s.dc === to)!.regions!.find((region) => region.role === 'PRIMARY')?.dc;
  if (!primaryDc) throw new CtlError(`${to} knows no primary (active-active?): nothing to switch over`, EXIT.refused);
  if (primaryDc === to) throw new CtlError(`${to} is already the primary`, EXIT.refused);
  const primary = clients.find((client) => client.dc === primaryDc);
  if (!primary) throw new CtlError(`the primary is ${primaryDc}, which is not among the control planes given`, EXIT.usage);

  const fenced = (
    await primary.request<{ switchover: RegionRow[] }>(`mutation($to: String!) { switchover(to: $to) { dc role epoch local fenced } }`, {
      to,
    })
  ).switchover;
  const epoch = fenced.find((region) => region.dc === primaryDc)!.epoch;
  progress(`${primaryDc} is fenced in epoch ${epoch}: it takes no more writes`);

  const deadline = Date.now() + waitMs;
  let last = '';
  for (;;) {
    const { regions } = await target.request<{ regions: RegionRow[] }>(`{ ${REGIONS} }`);
    const self = regions.find((region) => region.dc === to)!;
    if (self.role === 'PRIMARY' && self.epoch > epoch) return regions;
    const lag = regions.find((region) => region.dc === primaryDc)?.replication;
    const line = `waiting for ${to} to hold every event of ${primaryDc}${lag ? ` (mirror ${lag.state}, ${lag.records} records behind)` : ''}`;
    if (line !== last) progress(line);
    last = line;
    if (Date.now() > deadline)
      throw new CtlError(
        `${to} did not promote itself within ${Math.round(waitMs / 1000)} s; ${primaryDc} stays fenced (read-only). ` +
          `Check the replication (apimctl lag) and wait, or cancel with apimctl failover --to ${primaryDc}`,
        EXIT.timeout,
      );
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
