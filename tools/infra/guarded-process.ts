import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root';

export interface GuardedProcessOptions {
  /** File that receives the process's stdout and stderr (appended). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Process whose death stops this one too (default: this process). */
  ownerPid?: number;
}

/**
 * A background process run under tools/infra/process-guard.sh as the leader of
 * its own process group: `stop()` ends it by its pid, and it also ends when
 * its owner dies, however that happens.
 */
export class GuardedProcess {
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[], options: GuardedProcessOptions) {
    const out = openSync(options.logFile, 'a');
    const guard = join(repoRoot(), 'tools', 'infra', 'process-guard.sh');
    this.child = spawn(guard, [String(options.ownerPid ?? process.pid), command, ...args], {
      detached: true,
      stdio: ['ignore', out, out],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    closeSync(out);
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends SIGHUP to the command alone (the guard passes it on): a reload, for the apps that take one. */
  hangUp(): void {
    if (this.child.pid && this.running) process.kill(this.child.pid, 'SIGHUP');
  }

  /** Sends `signal` to the whole group at once (SIGKILL simulates a crash). */
  kill(signal: NodeJS.Signals): void {
    if (this.child.pid) signalGroup(this.child.pid, signal);
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (!this.child.pid || !this.running) return;
    // The child was unreferenced so as not to keep its owner alive; while stopping it, it must (else a
    // process with nothing else to do exits before the child's exit is seen, leaving it to the guard).
    this.child.ref();
    signalGroup(this.child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const exitedInTime = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!exitedInTime) {
      signalGroup(this.child.pid, 'SIGKILL');
      await this.exited;
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}
