import { Matches } from 'class-validator';
import { DcConfig } from '@apim/events';

const PEER_BROKERS = /^[a-z][a-z0-9]{0,15}=[A-Za-z0-9.:,-]+(;[a-z][a-z0-9]{0,15}=[A-Za-z0-9.:,-]+)*$/;

export class ReplicatorConfig extends DcConfig {
  override PORT = 9090;

  /** Every peer DC's Kafka brokers: `dc2=host:port[,host:port];dc3=...`. */
  @Matches(PEER_BROKERS, { message: 'must look like dc2=host:port[,host:port][;dc3=host:port]' })
  PEER_KAFKA_BROKERS!: string;

  get peerBrokers(): Map<string, string[]> {
    return new Map(
      this.PEER_KAFKA_BROKERS.split(';').map((entry) => {
        const [dc, brokers] = entry.split('=');
        return [dc, brokers.split(',')];
      }),
    );
  }
}
