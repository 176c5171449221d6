import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { LOG_LEVELS, LogLevel } from './logger';

export const DC_ID_PATTERN = /^[a-z][a-z0-9]{0,15}$/;
const BROKER_LIST = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;
const DC_LIST = /^[a-z][a-z0-9]{0,15}(,[a-z][a-z0-9]{0,15})*$/;

/** Variables every process of a DC reads. Property names are the variable names. */
export class DcConfig {
  /** This data centre's id, e.g. `dc1`; also the prefix of its topics in other DCs. */
  @Matches(DC_ID_PATTERN, { message: 'must be a lowercase id such as dc1 (letters and digits, at most 16)' })
  DC_ID!: string;

  /** This DC's own Kafka cluster, `host:port[,host:port...]`. */
  @Matches(BROKER_LIST, { message: 'must be a comma-separated list of host:port' })
  KAFKA_BROKERS!: string;

  /** The other DCs, comma-separated (e.g. `dc2`); empty for a single DC. */
  @IsOptional()
  @Matches(DC_LIST, { message: 'must be a comma-separated list of DC ids such as dc2,dc3' })
  PEER_DCS?: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(65535)
  PORT!: number;

  get brokers(): string[] {
    return this.KAFKA_BROKERS.split(',');
  }

  get peerDcs(): string[] {
    return this.PEER_DCS ? this.PEER_DCS.split(',').filter((dc) => dc !== this.DC_ID) : [];
  }
}
