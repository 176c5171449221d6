#!/usr/bin/env node
/**
 * apimctl: the SRE's command line for a multi-DC deployment. Talks to the
 * control planes over GraphQL as an ADMIN (APIMCTL_USER / APIMCTL_PASSWORD).
 */
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ControlPlaneClient, CtlError, EXIT, resolveCredentials, resolveEndpoints } from './control-planes';
import { fetchGateways, renderGateways } from './gateways';
import { CONFLICTS, DIVERGENT_EVENTS, fetchListing, Listing, listingVerdict, renderListing } from './listings';
import { DcStatus, fetchStatus, renderLag, renderStatus, verdict } from './status';
import { switchover } from './switchover';

interface GlobalOptions {
  endpoints?: string;
  timeout: number;
  json?: boolean;
}

const program = new Command('apimctl')
  .description('Region status, replication lag and failover of a multi-DC API management deployment')
  .option('--endpoints <list>', 'control planes, dc1=http://host:port,dc2=... (default: APIMCTL_ENDPOINTS, else .run/stack.json)')
  .option('--timeout <ms>', 'per request', positiveInt, 5000)
  .option('--json', 'machine-readable output')
  // Usage errors exit with EXIT.usage, not commander's 1, which scripts read as "something else failed".
  .exitOverride()
  .addHelpText(
    'after',
    `
Credentials: APIMCTL_USER and APIMCTL_PASSWORD (an ADMIN), from the environment only.
Exit codes: 0 ok, ${EXIT.usage} usage or configuration, ${EXIT.unreachable} a control plane unreachable,
            ${EXIT.refused} refused by a control plane, ${EXIT.disagree} the DCs disagree (primary or epoch; divergent events),
            ${EXIT.timeout} a switchover did not complete within --wait.`,
  );

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function clients(): ControlPlaneClient[] {
  const options = program.opts<GlobalOptions>();
  const endpoints = resolveEndpoints(options.endpoints, process.env, join(process.cwd(), '.run', 'stack.json'));
  const credentials = resolveCredentials(process.env);
  return [...endpoints].map(([dc, url]) => new ControlPlaneClient(dc, url, credentials, options.timeout));
}

function print(statuses: DcStatus[], render: (s: DcStatus[]) => string): void {
  if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(statuses, null, 2));
  else console.log(render(statuses));
}

program
  .command('status')
  .description('a table of DCs: role, epoch, replication lag, gateways; exits non-zero when a DC is unreachable or they disagree')
  .action(async () => {
    const statuses = await fetchStatus(clients());
    print(statuses, renderStatus);
    const { exitCode, problem } = verdict(statuses);
    if (problem) process.stderr.write(`apimctl: ${problem}\n`);
    process.exitCode = exitCode;
  });

program
  .command('lag')
  .description('replication lag of every DC behind each peer, in records and ms')
  .option('--watch', 'refresh until interrupted')
  .option('--interval <seconds>', 'refresh period with --watch', positiveInt, 2)
  .action(async (options: { watch?: boolean; interval: number }) => {
    const targets = clients();
    for (;;) {
      const statuses = await fetchStatus(targets);
      if (options.watch && !program.opts<GlobalOptions>().json) process.stdout.write('\x1b[2J\x1b[H');
      print(statuses, renderLag);
      if (!options.watch) {
        process.exitCode = verdict(statuses).exitCode === EXIT.unreachable ? EXIT.unreachable : EXIT.ok;
        return;
      }
      console.log(`\nevery ${options.interval} s, ${new Date().toISOString()} (Ctrl-C to stop)`);
      await new Promise((resolve) => setTimeout(resolve, options.interval * 1000));
    }
  });

program
  .command('gateways')
  .description("every DC's gateways (version, readiness, lag, routing-table digest) and whether the caught-up ones route alike")
  .option('--live', 'leave out gateways shown as gone')
  .action(async (options: { live?: boolean }) => {
    const answers = await fetchGateways(clients(), !options.live);
    if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(answers, null, 2));
    else console.log(renderGateways(answers));
    const down = answers.filter((answer) => !answer.reachable);
    if (down.length > 0) process.stderr.write(`apimctl: unreachable: ${down.map((answer) => answer.dc).join(', ')}\n`);
    process.exitCode = down.length > 0 ? EXIT.unreachable : EXIT.ok;
  });

function listingCommand<Row>(name: string, description: string, listing: Listing<Row>): void {
  program
    .command(name)
    .description(`${description}; exits non-zero when a DC is unreachable or the lists differ`)
    .action(async () => {
      const answers = await fetchListing(clients(), listing);
      if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(answers, null, 2));
      else console.log(renderListing(answers, listing));
      const { exitCode, problem } = listingVerdict(answers, listing);
      if (problem) process.stderr.write(`apimctl: ${problem}\n`);
      process.exitCode = exitCode;
    });
}

listingCommand('divergent', "events an old primary wrote after a failover's promotion point, as every DC lists them", DIVERGENT_EVENTS);
listingCommand('conflicts', 'cross-DC uniqueness clashes (active-active) and their winners, as every DC lists them', CONFLICTS);

program
  .command('failover')
  .description('make a DC the primary in a new epoch (the old primary may be down); asks that DC itself')
  .requiredOption('--to <dc>', 'the DC to promote')
  .option('--force', 'even while a switchover to another DC that answers is in progress')
  .action(async (options: { to: string; force?: boolean }) => {
    const all = clients();
    const target = all.find((client) => client.dc === options.to);
    if (!target) throw new CtlError(`no endpoint for ${options.to}: it must be one of the control planes given`, EXIT.usage);
    if (!options.force) await refuseDuringSwitchover(all, options.to);
    const { promoteRegion } = await target.request<{ promoteRegion: { dc: string; role: string; epoch: number }[] }>(
      `mutation($dc: String!) { promoteRegion(dc: $dc) { dc role epoch } }`,
      { dc: options.to },
    );
    const primary = promoteRegion.find((region) => region.role === 'PRIMARY');
    if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(promoteRegion, null, 2));
    else console.log(`${options.to} is now primary in epoch ${primary?.epoch ?? '?'} (as ${options.to} sees it)`);
  });

program
  .command('switchover')
  .description('planned change of primary with no loss: fence the primary, wait until --to holds every event it wrote, promote --to')
  .requiredOption('--to <dc>', 'the DC to make primary')
  .option('--wait <seconds>', 'how long to wait for --to to promote itself', positiveInt, 120)
  .action(async (options: { to: string; wait: number }) => {
    const regions = await switchover(clients(), options.to, options.wait * 1000, (line) => process.stderr.write(`apimctl: ${line}\n`));
    const primary = regions.find((region) => region.role === 'PRIMARY');
    if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(regions, null, 2));
    else console.log(`${options.to} is now primary in epoch ${primary?.epoch ?? '?'}; nothing was lost`);
  });

/**
 * A switchover's successor promotes itself the moment it holds the fenced
 * primary's events: promoting another DC meanwhile would give two primaries
 * of one epoch. Refuse while the successor answers (with it down, a failover
 * is exactly what is needed).
 */
async function refuseDuringSwitchover(all: ControlPlaneClient[], to: string): Promise<void> {
  const statuses = await fetchStatus(all);
  for (const status of statuses.filter((s) => s.reachable)) {
    const fenced = status.regions!.find((region) => region.fenced && region.switchoverTo);
    if (!fenced || fenced.switchoverTo === to) continue;
    const successor = statuses.find((s) => s.dc === fenced.switchoverTo);
    if (successor?.reachable)
      throw new CtlError(
        `a switchover from ${fenced.dc} to ${fenced.switchoverTo} is in progress and ${fenced.switchoverTo} answers: ` +
          `wait for it (apimctl status), or pass --force once ${fenced.switchoverTo} is stopped`,
        EXIT.refused,
      );
  }
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT.usage);
  if (error instanceof CtlError) {
    process.stderr.write(`apimctl: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  process.stderr.write(`apimctl: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
