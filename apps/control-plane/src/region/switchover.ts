import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { JsonLogger, PollingLoop } from '@apim/events';
import { WriteGuard } from '../command-side/write-guard';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { eventsOf, PromoteRegionCommand } from './region.commands';

/**
 * The successor's half of a switchover: while this DC is named the successor
 * of a fenced primary, it watches its own store and promotes itself as soon as
 * it holds every event the primary wrote before its fence (the fence itself
 * included). Nothing is lost because nothing could be written in between.
 */
@Injectable()
export class SwitchoverWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: PollingLoop;
  /** Logged once per fence, not on every poll. */
  private waitingFor?: string;

  constructor(
    private readonly guard: WriteGuard,
    private readonly db: DataSource,
    private readonly commands: CommandBus,
    private readonly config: ControlPlaneConfig,
    private readonly logger: JsonLogger,
  ) {
    this.loop = new PollingLoop({ name: 'switchover watcher', logger, idleMs: 200, step: () => this.step() });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /** Returns 0 (idle) unless it promoted this DC. */
  async step(): Promise<number> {
    const region = await this.guard.region();
    if (region.activeActive || !region.fenced || region.successor !== this.config.DC_ID || region.primary === null) return 0;
    const needed = (region.eventsBefore ?? 0) + 1; // + the fence itself
    const held = await eventsOf(region.primary, this.db);
    const key = `${region.primary}@${region.epoch}`;
    if (held < needed) {
      if (this.waitingFor !== key)
        this.logger.info('switchover: waiting for the fenced primary events', {
          primary: region.primary,
          epoch: region.epoch,
          needed,
          held,
        });
      this.waitingFor = key;
      return 0;
    }
    this.logger.info('switchover: every event of the fenced primary is here; promoting this DC', { primary: region.primary, held });
    await this.commands.execute(new PromoteRegionCommand(this.config.DC_ID, { user: null, correlationId: `switchover-${key}` }));
    return 1;
  }
}
