import { IsInt, Matches, Max, Min } from 'class-validator';
import {
  ConfigProblem,
  DcConfig,
  KAFKA_SECURITY_VARIABLES,
  kafkaSecurity,
  KafkaSecurity,
  kafkaSecurityProblems,
  KafkaSecurityVariables,
} from '@apim/events';

const PEER_BROKERS = /^[a-z][a-z0-9]{0,15}=[A-Za-z0-9.:,-]+(;[a-z][a-z0-9]{0,15}=[A-Za-z0-9.:,-]+)*$/;

/** `PEER_<DC>_KAFKA_<...>`: a peer cluster's own TLS and SASL variables (its DC id in capitals). */
const PEER_SECURITY = /^PEER_([A-Z][A-Z0-9]{0,15})_(KAFKA_[A-Z_]+)$/;

/** The replicator runs in the target DC (`DC_ID`, `KAFKA_BROKERS`) and pulls from every peer. */
export class ReplicatorConfig extends DcConfig {
  /** Read by loadConfig besides the declared variables: each peer's security (see `securityOf`). */
  static readonly variableFamily = PEER_SECURITY;

  override PORT = 9090;
  override TLS_PORT = 9443;

  /** Every peer DC's Kafka brokers: `dc2=host:port[,host:port];dc3=...`. */
  @Matches(PEER_BROKERS, { message: 'must look like dc2=host:port[,host:port][;dc3=host:port]' })
  PEER_KAFKA_BROKERS!: string;

  /** A heartbeat per source DC into this DC's apim.heartbeats this often. */
  @IsInt({ message: 'must be an integer' })
  @Min(100)
  @Max(60_000)
  HEARTBEAT_INTERVAL_MS: number = 1000;

  /** How often the peers' topics, partitions and end offsets are looked at. */
  @IsInt({ message: 'must be an integer' })
  @Min(200)
  @Max(300_000)
  TOPOLOGY_REFRESH_MS: number = 2000;

  /** A source whose cluster has not answered for this long counts as down (`/readyz`, heartbeat state). */
  @IsInt({ message: 'must be an integer' })
  @Min(1000)
  SOURCE_DOWN_AFTER_MS: number = 10_000;

  /**
   * A mirror's open transaction commits once no batch came for this long
   * (and at MIRROR_COMMIT_MAX_MS after its first batch at the latest). Longer
   * keeps records flowing to readers of records as written (gateways), as
   * fast as MirrorMaker 2; shorter makes them committed (for the importer)
   * sooner. See docs/operations.md, "Replication latency".
   */
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(10_000)
  MIRROR_COMMIT_IDLE_MS: number = 50;

  /** The longest a mirror's transaction stays open after its first batch. */
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(10_000)
  MIRROR_COMMIT_MAX_MS: number = 100;

  get peerBrokers(): Map<string, string[]> {
    return new Map(
      this.PEER_KAFKA_BROKERS.split(';').map((entry) => {
        const [dc, brokers] = entry.split('=');
        return [dc, brokers.split(',')];
      }),
    );
  }

  /** The peers this replicator mirrors from: `PEER_DCS` when set (each must have brokers), else every DC in PEER_KAFKA_BROKERS. */
  get sources(): { dc: string; brokers: string[]; security: KafkaSecurity }[] {
    const brokers = this.peerBrokers;
    return this.sourceDcs.map((dc) => ({ dc, brokers: brokers.get(dc) ?? [], security: this.securityOf(dc) }));
  }

  /**
   * How to reach a peer's cluster: its own `PEER_<DC>_KAFKA_TLS*` and
   * `PEER_<DC>_KAFKA_SASL_*` variables when any is set (all of them then: no
   * mix with this DC's), else this DC's `KAFKA_TLS*` / `KAFKA_SASL_*`.
   */
  securityOf(dc: string): KafkaSecurity {
    const own = this.peerSecurityVariables(dc);
    return own ? kafkaSecurity(own) : this.kafkaSecurity;
  }

  override crossCheck(): ConfigProblem[] {
    const problems = super.crossCheck();
    const sources = new Set(this.sourceDcs.map((dc) => dc.toUpperCase()));
    for (const key of Object.keys(this).filter((key) => PEER_SECURITY.test(key))) {
      const [, dc, variable] = PEER_SECURITY.exec(key)!;
      if (!(KAFKA_SECURITY_VARIABLES as readonly string[]).includes(variable))
        problems.push({ variable: key, reason: `is not a Kafka security variable (${KAFKA_SECURITY_VARIABLES.join(', ')})` });
      else if (!sources.has(dc))
        problems.push({ variable: key, reason: `names ${dc.toLowerCase()}, which is not a peer this replicator mirrors` });
    }
    for (const dc of this.sourceDcs) {
      const own = this.peerSecurityVariables(dc);
      if (own) problems.push(...kafkaSecurityProblems(own, (variable) => peerVariable(dc, variable)));
    }
    return problems;
  }

  private get sourceDcs(): string[] {
    const peers = this.peerDcs.length > 0 ? this.peerDcs : [...this.peerBrokers.keys()];
    return peers.filter((dc) => dc !== this.DC_ID);
  }

  /** The peer's own security variables, or null when none is set. */
  private peerSecurityVariables(dc: string): KafkaSecurityVariables | null {
    const values = this as unknown as Record<string, string | undefined>;
    const entries = KAFKA_SECURITY_VARIABLES.map((variable) => [variable, values[peerVariable(dc, variable)]] as const).filter(
      ([, value]) => value !== undefined,
    );
    return entries.length === 0 ? null : (Object.fromEntries(entries) as KafkaSecurityVariables);
  }
}

/** `PEER_DC2_KAFKA_SASL_USERNAME` for dc2's `KAFKA_SASL_USERNAME`. */
function peerVariable(dc: string, variable: string): string {
  return `PEER_${dc.toUpperCase()}_${variable}`;
}
