import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DEFAULT_POLICIES, DomainError, policyDecider, policyStreamId, userStreamId } from '@apim/domain';
import { JsonLogger } from '@apim/events';
import { AuthService } from '../auth/auth.service';
import { AggregateRepository } from '../command-side/aggregate-repository';
import { CommandContext } from '../command-side/command-context';
import { WriteGuard } from '../command-side/write-guard';
import { ControlPlaneConfig } from '../config/control-plane.config';
import { ConcurrencyError } from '../infrastructure/event-store/event-store';
import { SigningKeys } from '../keymanager/signing/signing-keys.service';
import { promoteRegion } from './region.commands';

/**
 * What a fresh installation needs, written once as events: the initial
 * primary's promotion, this DC's signing key, the default throttling policies
 * and the first ADMIN. Every step is idempotent (a stream that exists is left
 * alone), so every start runs it, and two instances racing are harmless.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly repository: AggregateRepository,
    private readonly guard: WriteGuard,
    private readonly signingKeys: SigningKeys,
    private readonly auth: AuthService,
    private readonly logger: JsonLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const context: CommandContext = { user: null, correlationId: `bootstrap-${this.config.DC_ID}` };
    const region = await this.guard.region();
    if (region.primary === null && this.config.REPLICATION_MODE === 'active-passive' && this.config.initialPrimary === this.config.DC_ID)
      await this.once('initial promotion', () => promoteRegion(this.repository, this.config, this.config.DC_ID, context));
    await this.once('signing key', () => this.signingKeys.ensureKey(context));
    // A standby gets policies and the admin from the primary. In active-active, one DC (PRIMARY_DC, else the
    // first id) seeds them: seeded in every DC, they would be the same stream ids created twice, i.e. conflicts.
    if (!(await this.guard.region()).writable || this.config.initialPrimary !== this.config.DC_ID) return;
    for (const policy of DEFAULT_POLICIES) {
      // Seeded once: a default tier an operator deleted stays deleted across restarts.
      const streamId = policyStreamId(policy.name);
      if ((await this.repository.load(policyDecider, streamId)).state.status !== 'EMPTY') continue;
      await this.once(`policy ${policy.name}`, () =>
        this.repository.execute({
          decider: policyDecider,
          streamId,
          streamType: 'policy',
          context,
          command: { type: 'CreatePolicy', data: policy },
        }),
      );
    }
    const { APIM_ADMIN_USER: username, APIM_ADMIN_PASSWORD: password } = this.config;
    if (username && password) await this.once('admin user', () => this.auth.register(username, password, ['ADMIN'], context));
    else this.logger.warn('APIM_ADMIN_USER and APIM_ADMIN_PASSWORD are not set: no admin is created');
    this.logger.info('bootstrap done', { user: username ? userStreamId(username) : undefined });
  }

  /** Runs `step`; "it exists already" (another instance, an earlier start) counts as done. */
  private async once(what: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
      this.logger.info(`bootstrap: ${what} created`);
    } catch (error) {
      if (error instanceof ConcurrencyError || (error instanceof DomainError && error.kind === 'CONFLICT')) return;
      throw error;
    }
  }
}
