import { IsInt, Matches, Max, Min } from 'class-validator';
import { DcConfig } from '@apim/events';

const PEER_BROKERS = /^[a-z][a-z0-9]{0,15}=[A-Za-z0-9.:,-]+(;[a-z][a-z0-9]{0,15}=[A-Za-z0-9.:,-]+)*$/;

/** The replicator runs in the target DC (`DC_ID`, `KAFKA_BROKERS`) and pulls from every peer. */
export class ReplicatorConfig extends DcConfig {
  override PORT = 9090;

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
  get sources(): { dc: string; brokers: string[] }[] {
    const brokers = this.peerBrokers;
    const peers = this.peerDcs.length > 0 ? this.peerDcs : [...brokers.keys()];
    return peers.filter((dc) => dc !== this.DC_ID).map((dc) => ({ dc, brokers: brokers.get(dc) ?? [] }));
  }
}
