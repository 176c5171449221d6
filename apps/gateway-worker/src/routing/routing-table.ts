import { createHash } from 'node:crypto';
import { CurrentPayload, EventEnvelope, EventType, isEventOf, PublicJwk } from '@apim/events';
import { compileOperations, MatchedOperation, OperationRoute } from './operations';

/** API lifecycle states as the gateway sees them (DESIGN.md section 6). */
export type ApiState = 'CREATED' | 'PUBLISHED' | 'DEPRECATED' | 'RETIRED' | 'BLOCKED';

export interface RoutedApi {
  id: string;
  name: string;
  version: string;
  context: string;
  state: ApiState;
  upstreamUrls: string[];
  upstreamTimeoutMs: number;
  operations: OperationRoute[];
  tiers: string[];
  /** The API's own throttling policy (every caller shares it), or null; undefined in snapshots written before it existed. */
  throttlingPolicy?: string | null;
  homeDc: string;
  /** Event id of `api.created`: the deterministic tie-break when two live APIs claim one context and version. */
  createdBy: string;
}

export interface Policy {
  name: string;
  requestsPerMinute: number;
  burst: number;
  unlimited: boolean;
}

export interface ApplicationEntry {
  id: string;
  policy: string;
}

export type SubscriptionState = 'ACTIVE' | 'BLOCKED';

export interface SubscriptionEntry {
  applicationId: string;
  apiId: string;
  tier: string;
  state: SubscriptionState;
}

export interface ApiKeyEntry {
  keyId: string;
  applicationId: string;
  /** Milliseconds since the epoch, or null for a key that never expires. */
  expiresAt: number | null;
  revoked: boolean;
}

export interface OAuthClientEntry {
  clientId: string;
  applicationId: string;
  revoked: boolean;
}

/** What a request path resolved to: the API (whatever its state) and the path below `/{context}/{version}`. */
export interface ResolvedRoute {
  api: RoutedApi;
  rest: string;
}

/** The whole table as plain JSON, for the snapshot file and the digest. */
export interface RoutingTableState {
  apis: RoutedApi[];
  policies: Policy[];
  applications: ApplicationEntry[];
  subscriptions: [streamId: string, entry: SubscriptionEntry][];
  apiKeys: [keyHash: string, entry: ApiKeyEntry][];
  oauthClients: OAuthClientEntry[];
  signingKeys: [kid: string, jwk: PublicJwk][];
  revokedTokens: [jti: string, expiresAt: number][];
  streamVersions: [streamId: string, version: number][];
  /** Epoch of each stream's last applied event (absent in snapshots of older gateways). */
  streamEpochs?: [streamId: string, epoch: number][];
  /** First event of each stream whose id two DCs can create alike (absent in snapshots of older gateways). */
  streamFirsts?: [streamId: string, first: { eventId: string; originDc: string }][];
  /** Ids of deleted applications: what arrives for one later (another DC's concurrent write) stays inert (absent in snapshots of older gateways). */
  deletedApplications?: string[];
  region: { primary: string | null; epoch: number };
  lastEventAt: string | null;
}

/** What `apply` did with an event. */
export type ApplyOutcome = 'applied' | 'ignored';

/** Stream types whose ids are names (`policy:<name>`, `sub:<app>:<api>`, `user:<name>`): two DCs can create one alike. */
const NAMED_STREAM_TYPES = new Set<string>(['policy', 'subscription', 'user']);

/** Where an API is routed: its context and version as a request path spells them (a version never holds a '/'). */
const routeKey = (context: string, version: string) => `${context}/${version}`;

/**
 * The gateway's in-memory view of the event stream (DESIGN.md section 8):
 * everything a request needs, so the request path never leaves the process.
 * Events must come through the per-stream ordering helper: `apply` trusts that
 * each event is the next of its stream, and records the stream's version so
 * the helper can ask for it.
 */
export class RoutingTable {
  private readonly apis = new Map<string, RoutedApi>();
  /** context + version -> ids of the non-retired APIs there (normally one). */
  private readonly routes = new Map<string, string[]>();
  private maxContextDepth = 1;
  private readonly policies = new Map<string, Policy>();
  private readonly applications = new Map<string, ApplicationEntry>();
  private readonly deletedApplications = new Set<string>();
  private readonly subscriptionsByStream = new Map<string, SubscriptionEntry>();
  /** By application, then API: keys the table already holds, so a lookup builds no string. */
  private readonly subscriptions = new Map<string, Map<string, SubscriptionEntry>>();
  private readonly apiKeys = new Map<string, ApiKeyEntry>();
  private readonly apiKeyHashById = new Map<string, string>();
  private readonly oauthClients = new Map<string, OAuthClientEntry>();
  private readonly signingKeys = new Map<string, PublicJwk>();
  private readonly revokedTokens = new Map<string, number>();
  private readonly streamVersions = new Map<string, number>();
  private readonly streamEpochs = new Map<string, number>();
  private readonly streamFirsts = new Map<string, { eventId: string; originDc: string }>();
  private region: { primary: string | null; epoch: number } = { primary: null, epoch: 0 };
  private lastEventAt: string | null = null;
  private compiled = new Map<string, MatchedOperationFinder>();
  /** Events applied since this process started (snapshot contents not counted). */
  applied = 0;

  /** The version of `streamId` already applied (0 when unknown): the ordering helper's `currentVersion`. */
  streamVersion(streamId: string): number {
    return this.streamVersions.get(streamId) ?? 0;
  }

  /** The first event of a stream whose id two DCs can create alike (policy, subscription, user ids are names, not UUIDs). */
  firstEvent(streamId: string): { eventId: string; originDc: string } | undefined {
    return this.streamFirsts.get(streamId);
  }

  /** The epoch of the last event applied to `streamId` (0 when unknown): how the feed tells that a newer primary rewrote it. */
  streamEpoch(streamId: string): number {
    return this.streamEpochs.get(streamId) ?? 0;
  }

  /** Applies one event, the next of its stream. Types the gateway does not route on only advance the stream's version. */
  apply(event: EventEnvelope): ApplyOutcome {
    const outcome = this.applyPayload(event);
    this.streamVersions.set(event.streamId, Math.max(event.version, this.streamVersion(event.streamId)));
    this.streamEpochs.set(event.streamId, Math.max(event.epoch, this.streamEpoch(event.streamId)));
    if (event.version === 1 && NAMED_STREAM_TYPES.has(event.streamType))
      this.streamFirsts.set(event.streamId, { eventId: event.eventId, originDc: event.originDc });
    this.lastEventAt = event.occurredAt;
    this.applied++;
    return outcome;
  }

  /** The API that `/{context}/{version}/...` addresses, longest context first; undefined when none. */
  resolve(path: string): ResolvedRoute | undefined {
    // `/{context...}/{version}/{rest}`: the route key is the path up to the end of the version segment, so
    // each depth tried costs one slice and one lookup (a version never holds a '/').
    const ends: number[] = [];
    for (let at = path.indexOf('/', 1); at !== -1 && ends.length <= this.maxContextDepth; at = path.indexOf('/', at + 1)) ends.push(at);
    ends.push(path.length);
    for (let depth = Math.min(this.maxContextDepth, ends.length - 1); depth >= 1; depth--) {
      const ids = this.routes.get(path.slice(0, ends[depth]));
      if (!ids) continue;
      const api = this.apis.get(ids[0])!;
      const restAt = ends[depth];
      return { api, rest: restAt === path.length ? '/' : path.slice(restAt) };
    }
    return undefined;
  }

  matchOperation(api: RoutedApi, method: string, rest: string): MatchedOperation | undefined {
    let finder = this.compiled.get(api.id);
    if (!finder) {
      finder = compileOperations(api.operations);
      this.compiled.set(api.id, finder);
    }
    return finder(method, rest);
  }

  policy(name: string): Policy | undefined {
    return this.policies.get(name);
  }

  application(id: string): ApplicationEntry | undefined {
    return this.applications.get(id);
  }

  isApplicationDeleted(applicationId: string): boolean {
    return this.deletedApplications.has(applicationId);
  }

  subscription(applicationId: string, apiId: string): SubscriptionEntry | undefined {
    return this.subscriptions.get(applicationId)?.get(apiId);
  }

  apiKey(keyHash: string): ApiKeyEntry | undefined {
    return this.apiKeys.get(keyHash);
  }

  oauthClient(clientId: string): OAuthClientEntry | undefined {
    return this.oauthClients.get(clientId);
  }

  signingKey(kid: string): PublicJwk | undefined {
    return this.signingKeys.get(kid);
  }

  isTokenRevoked(jti: string): boolean {
    return this.revokedTokens.has(jti);
  }

  /** Forgets revocations of tokens that have expired anyway; returns how many. */
  purgeExpiredRevocations(now = Date.now()): number {
    let purged = 0;
    for (const [jti, expiresAt] of this.revokedTokens) {
      if (expiresAt > now) continue;
      this.revokedTokens.delete(jti);
      purged++;
    }
    return purged;
  }

  /** Sizes, for `/metrics` and the heartbeat. */
  counts(): Record<string, number> {
    return {
      apis: this.apis.size,
      routes: this.routes.size,
      policies: this.policies.size,
      applications: this.applications.size,
      subscriptions: this.subscriptionsByStream.size,
      apiKeys: this.apiKeys.size,
      oauthClients: this.oauthClients.size,
      signingKeys: this.signingKeys.size,
      revokedTokens: this.revokedTokens.size,
      streams: this.streamVersions.size,
    };
  }

  get lastAppliedEventAt(): string | null {
    return this.lastEventAt;
  }

  get regionState(): { primary: string | null; epoch: number } {
    return { ...this.region };
  }

  toState(): RoutingTableState {
    return {
      apis: [...this.apis.values()],
      policies: [...this.policies.values()],
      applications: [...this.applications.values()],
      subscriptions: [...this.subscriptionsByStream.entries()],
      apiKeys: [...this.apiKeys.entries()],
      oauthClients: [...this.oauthClients.values()],
      signingKeys: [...this.signingKeys.entries()],
      revokedTokens: [...this.revokedTokens.entries()],
      streamVersions: [...this.streamVersions.entries()],
      streamEpochs: [...this.streamEpochs.entries()],
      streamFirsts: [...this.streamFirsts.entries()],
      deletedApplications: [...this.deletedApplications],
      region: { ...this.region },
      lastEventAt: this.lastEventAt,
    };
  }

  static fromState(state: RoutingTableState): RoutingTable {
    const table = new RoutingTable();
    for (const api of state.apis) table.putApi(api);
    for (const policy of state.policies) table.policies.set(policy.name, policy);
    for (const application of state.applications) table.applications.set(application.id, application);
    for (const [streamId, entry] of state.subscriptions) table.putSubscription(streamId, entry);
    for (const [hash, entry] of state.apiKeys) {
      table.apiKeys.set(hash, entry);
      table.apiKeyHashById.set(entry.keyId, hash);
    }
    for (const client of state.oauthClients) table.oauthClients.set(client.clientId, client);
    for (const [kid, jwk] of state.signingKeys) table.signingKeys.set(kid, jwk);
    for (const [jti, expiresAt] of state.revokedTokens) table.revokedTokens.set(jti, expiresAt);
    for (const [streamId, version] of state.streamVersions) table.streamVersions.set(streamId, version);
    for (const [streamId, epoch] of state.streamEpochs ?? []) table.streamEpochs.set(streamId, epoch);
    for (const [streamId, first] of state.streamFirsts ?? []) table.streamFirsts.set(streamId, first);
    for (const id of state.deletedApplications ?? []) table.deletedApplications.add(id);
    table.region = { ...state.region };
    table.lastEventAt = state.lastEventAt;
    return table;
  }

  /**
   * SHA-256 over the table's contents in a canonical order: two gateways that
   * applied the same events report the same digest, whatever the order of
   * arrival across topics. Costs a pass over the table; call it periodically.
   */
  digest(): string {
    const state = this.toState();
    const byFirst = <T>(entries: [string, T][]) => [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const hash = createHash('sha256');
    const feed = (value: unknown) => hash.update(JSON.stringify(value)).update('\n');
    feed(byFirst(state.apis.map((api) => [api.id, api])));
    feed(byFirst(state.policies.map((policy) => [policy.name, policy])));
    feed(byFirst(state.applications.map((application) => [application.id, application])));
    feed(byFirst(state.subscriptions));
    feed(byFirst(state.apiKeys));
    feed(byFirst(state.oauthClients.map((client) => [client.clientId, client])));
    feed(byFirst(state.signingKeys));
    feed(byFirst(state.revokedTokens));
    feed(byFirst(state.streamVersions));
    feed([...(state.deletedApplications ?? [])].sort());
    feed(state.region);
    return hash.digest('hex');
  }

  private applyPayload(event: EventEnvelope): ApplyOutcome {
    const type = event.type as EventType;
    switch (type) {
      case 'api.created':
        return this.onApiCreated(event as EventEnvelope<CurrentPayload<'api.created'>>);
      case 'api.updated':
        return this.onApiUpdated(event as EventEnvelope<CurrentPayload<'api.updated'>>);
      case 'api.published':
      case 'api.unblocked':
        return this.setApiState(event.streamId, 'PUBLISHED');
      case 'api.deprecated':
        return this.setApiState(event.streamId, 'DEPRECATED');
      case 'api.retired':
        return this.setApiState(event.streamId, 'RETIRED');
      case 'api.blocked':
        return this.setApiState(event.streamId, 'BLOCKED');
      case 'policy.created': {
        if (!isEventOf(event, 'policy.created')) return 'ignored';
        const { name, requestsPerMinute, burst, unlimited } = event.payload;
        this.policies.set(name, { name, requestsPerMinute, burst, unlimited });
        return 'applied';
      }
      case 'policy.updated': {
        // A new rate: the token buckets of the tier take their new size on their next request.
        if (!isEventOf(event, 'policy.updated') || !this.policies.has(event.payload.name)) return 'ignored';
        const { name, requestsPerMinute, burst, unlimited } = event.payload;
        this.policies.set(name, { name, requestsPerMinute, burst, unlimited });
        return 'applied';
      }
      case 'policy.deleted': {
        // Deleted only once nothing used it; a subscription another DC put on it meanwhile keeps its other limits.
        if (!isEventOf(event, 'policy.deleted') || !this.policies.delete(event.payload.name)) return 'ignored';
        return 'applied';
      }
      case 'application.created': {
        if (!isEventOf(event, 'application.created')) return 'ignored';
        this.applications.set(event.streamId, { id: event.streamId, policy: event.payload.policy });
        return 'applied';
      }
      case 'application.updated': {
        // A new tier applies to the application's next request (its bucket is keyed by the application, not the tier).
        if (!isEventOf(event, 'application.updated') || !this.applications.has(event.streamId)) return 'ignored';
        this.applications.set(event.streamId, { id: event.streamId, policy: event.payload.policy });
        return 'applied';
      }
      case 'application.deleted':
        this.deleteApplication(event.streamId);
        return 'applied';
      case 'subscription.created': {
        if (!isEventOf(event, 'subscription.created')) return 'ignored';
        const { applicationId, apiId, tier } = event.payload;
        if (this.deletedApplications.has(applicationId)) return 'ignored';
        this.putSubscription(event.streamId, { applicationId, apiId, tier, state: 'ACTIVE' });
        return 'applied';
      }
      case 'subscription.blocked':
        return this.setSubscriptionState(event.streamId, 'BLOCKED');
      case 'subscription.unblocked':
        return this.setSubscriptionState(event.streamId, 'ACTIVE');
      case 'subscription.tier-changed': {
        // Its bucket is keyed by the subscription, so the new tier sizes it from the next request.
        const entry = this.subscriptionsByStream.get(event.streamId);
        if (!entry || !isEventOf(event, 'subscription.tier-changed')) return 'ignored';
        entry.tier = event.payload.tier;
        return 'applied';
      }
      case 'subscription.removed': {
        const entry = this.subscriptionsByStream.get(event.streamId);
        if (!entry) return 'ignored';
        this.subscriptionsByStream.delete(event.streamId);
        const ofApplication = this.subscriptions.get(entry.applicationId);
        ofApplication?.delete(entry.apiId);
        if (ofApplication?.size === 0) this.subscriptions.delete(entry.applicationId);
        return 'applied';
      }
      case 'apikey.generated': {
        if (!isEventOf(event, 'apikey.generated')) return 'ignored';
        const { applicationId, keyHash, expiresAt } = event.payload;
        this.apiKeys.set(keyHash, {
          keyId: event.streamId,
          applicationId,
          expiresAt: expiresAt === null ? null : Date.parse(expiresAt),
          revoked: this.deletedApplications.has(applicationId),
        });
        this.apiKeyHashById.set(event.streamId, keyHash);
        return 'applied';
      }
      case 'apikey.revoked': {
        // Kept, marked revoked, so that a caller is told "revoked" rather than "unknown".
        const entry = this.apiKeys.get(this.apiKeyHashById.get(event.streamId) ?? '');
        if (!entry) return 'ignored';
        entry.revoked = true;
        return 'applied';
      }
      case 'oauth-client.registered': {
        if (!isEventOf(event, 'oauth-client.registered')) return 'ignored';
        const { applicationId } = event.payload;
        this.oauthClients.set(event.streamId, {
          clientId: event.streamId,
          applicationId,
          revoked: this.deletedApplications.has(applicationId),
        });
        return 'applied';
      }
      case 'oauth-client.revoked': {
        const client = this.oauthClients.get(event.streamId);
        if (!client) return 'ignored';
        client.revoked = true;
        return 'applied';
      }
      case 'token.revoked': {
        if (!isEventOf(event, 'token.revoked')) return 'ignored';
        this.revokedTokens.set(event.payload.jti, Date.parse(event.payload.expiresAt));
        return 'applied';
      }
      case 'signing-key.rotated': {
        if (!isEventOf(event, 'signing-key.rotated')) return 'ignored';
        const { kty, crv, x, y } = event.payload.publicJwk;
        this.signingKeys.set(event.payload.kid, { kty, crv, x, y });
        return 'applied';
      }
      case 'region.promoted': {
        if (!isEventOf(event, 'region.promoted')) return 'ignored';
        if (event.payload.epoch > this.region.epoch) this.region = { primary: event.payload.dc, epoch: event.payload.epoch };
        return 'applied';
      }
      // divergence.recorded is the feed's: it skips fenced events, and rebuilds the table when one had been applied.
      case 'region.fenced':
      case 'divergence.recorded':
      case 'user.registered':
      case 'user.roles-changed':
      case 'user.password-changed':
      case 'user.deactivated':
      case 'user.reactivated':
        return 'ignored';
      default: {
        const unknown: never = type;
        void unknown;
        return 'ignored';
      }
    }
  }

  private onApiCreated(event: EventEnvelope<CurrentPayload<'api.created'>>): ApplyOutcome {
    if (!isEventOf(event, 'api.created')) return 'ignored';
    const { name, version, context, upstreamUrls, upstreamTimeoutMs, operations, tiers, throttlingPolicy } = event.payload;
    this.putApi({
      id: event.streamId,
      name,
      version,
      context,
      state: 'CREATED',
      upstreamUrls: [...upstreamUrls],
      upstreamTimeoutMs,
      operations: operations.map(({ method, path, auth }) => ({ method, path, auth })),
      tiers: [...tiers],
      throttlingPolicy: throttlingPolicy ?? null,
      homeDc: event.originDc,
      createdBy: event.eventId,
    });
    return 'applied';
  }

  private onApiUpdated(event: EventEnvelope<CurrentPayload<'api.updated'>>): ApplyOutcome {
    const api = this.apis.get(event.streamId);
    if (!api || !isEventOf(event, 'api.updated')) return 'ignored';
    const { name, upstreamUrls, upstreamTimeoutMs, operations, tiers, throttlingPolicy } = event.payload;
    if (name !== undefined) api.name = name;
    if (upstreamUrls !== undefined) api.upstreamUrls = [...upstreamUrls];
    if (upstreamTimeoutMs !== undefined) api.upstreamTimeoutMs = upstreamTimeoutMs;
    if (operations !== undefined) {
      api.operations = operations.map(({ method, path, auth }) => ({ method, path, auth }));
      this.compiled.delete(api.id);
    }
    if (tiers !== undefined) api.tiers = [...tiers];
    if (throttlingPolicy !== undefined) api.throttlingPolicy = throttlingPolicy;
    return 'applied';
  }

  private setApiState(apiId: string, state: ApiState): ApplyOutcome {
    const api = this.apis.get(apiId);
    if (!api) return 'ignored';
    this.unindex(api);
    api.state = state;
    this.index(api);
    return 'applied';
  }

  private putApi(api: RoutedApi): void {
    const previous = this.apis.get(api.id);
    if (previous) this.unindex(previous);
    this.apis.set(api.id, api);
    this.compiled.delete(api.id);
    this.index(api);
  }

  /** Retired APIs leave the route index: their context and version may be reused. */
  private index(api: RoutedApi): void {
    if (api.state === 'RETIRED') return;
    const key = routeKey(api.context, api.version);
    const ids = this.routes.get(key) ?? [];
    ids.push(api.id);
    // Earliest creation first: both DCs pick the same API if a cross-DC conflict ever puts two here.
    ids.sort((a, b) => (this.apis.get(a)!.createdBy < this.apis.get(b)!.createdBy ? -1 : 1));
    this.routes.set(key, ids);
    this.maxContextDepth = Math.max(this.maxContextDepth, api.context.split('/').length - 1);
  }

  private unindex(api: RoutedApi): void {
    const key = routeKey(api.context, api.version);
    const ids = this.routes.get(key)?.filter((id) => id !== api.id);
    if (!ids || ids.length === 0) this.routes.delete(key);
    else this.routes.set(key, ids);
  }

  /**
   * An application's deletion takes everything it called with: its
   * subscriptions go, its keys and OAuth2 clients are marked revoked (a caller
   * is told "revoked"), and its tokens are refused (`isApplicationDeleted`).
   * A pass over all keys and clients: deletions are rare.
   */
  private deleteApplication(applicationId: string): void {
    this.deletedApplications.add(applicationId);
    this.applications.delete(applicationId);
    for (const [streamId, entry] of this.subscriptionsByStream)
      if (entry.applicationId === applicationId) this.subscriptionsByStream.delete(streamId);
    this.subscriptions.delete(applicationId);
    for (const key of this.apiKeys.values()) if (key.applicationId === applicationId) key.revoked = true;
    for (const client of this.oauthClients.values()) if (client.applicationId === applicationId) client.revoked = true;
  }

  private putSubscription(streamId: string, entry: SubscriptionEntry): void {
    this.subscriptionsByStream.set(streamId, entry);
    let ofApplication = this.subscriptions.get(entry.applicationId);
    if (!ofApplication) this.subscriptions.set(entry.applicationId, (ofApplication = new Map()));
    ofApplication.set(entry.apiId, entry);
  }

  private setSubscriptionState(streamId: string, state: SubscriptionState): ApplyOutcome {
    const entry = this.subscriptionsByStream.get(streamId);
    if (!entry) return 'ignored';
    entry.state = state;
    return 'applied';
  }
}

type MatchedOperationFinder = (method: string, rest: string) => MatchedOperation | undefined;
