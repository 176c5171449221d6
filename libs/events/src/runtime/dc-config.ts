import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { KAFKA_SASL_MECHANISMS, kafkaSecurity, KafkaSecurity, kafkaSecurityProblems } from '../kafka/kafka-security';
import { LOG_LEVELS, LogLevel } from './logger';
import type { ConfigProblem } from './config';
import { readServerTls, ServerTlsPair, serverTlsProblems } from './server-tls';

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

  /** `true`: TLS to the brokers, verified against the system's CAs or KAFKA_TLS_CA_FILE (set by any KAFKA_TLS_* file too). */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  KAFKA_TLS?: string;

  /** PEM file of the CA(s) that signed the brokers' certificates. */
  @IsOptional()
  @IsString()
  KAFKA_TLS_CA_FILE?: string;

  /** PEM files of a client certificate and its key, for brokers that require one (mutual TLS). */
  @IsOptional()
  @IsString()
  KAFKA_TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  KAFKA_TLS_KEY_FILE?: string;

  /** SASL authentication to the brokers: `plain`, `scram-sha-256` or `scram-sha-512`. */
  @IsOptional()
  @IsIn(KAFKA_SASL_MECHANISMS, { message: `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}` })
  KAFKA_SASL_MECHANISM?: string;

  @IsOptional()
  @IsString()
  KAFKA_SASL_USERNAME?: string;

  /** The SASL password, or KAFKA_SASL_PASSWORD_FILE naming a file that holds it (a mounted secret). */
  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD?: string;

  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD_FILE?: string;

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

  /** HTTPS port, served besides PORT when TLS_CERT_FILE and TLS_KEY_FILE are set (0: any free port); each app has its default. */
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  @Max(65535)
  TLS_PORT?: number;

  /** PEM certificate chain presented on TLS_PORT (the server's certificate first). Read again on SIGHUP. */
  @IsOptional()
  @IsString()
  TLS_CERT_FILE?: string;

  /** PEM private key of TLS_CERT_FILE's certificate. Read again on SIGHUP. */
  @IsOptional()
  @IsString()
  TLS_KEY_FILE?: string;

  /** Problems of the variables taken together; loadConfig reports them with the others. */
  crossCheck(): ConfigProblem[] {
    return [...kafkaSecurityProblems(this), ...serverTlsProblems(this)];
  }

  /** This app's HTTPS certificate and key, read from their files now; null without HTTPS. */
  get tls(): ServerTlsPair | null {
    return readServerTls(this);
  }

  /** kafkajs' TLS and SASL options for this process's clusters (the files are read at each call). */
  get kafkaSecurity(): KafkaSecurity {
    return kafkaSecurity(this);
  }

  get brokers(): string[] {
    return this.KAFKA_BROKERS.split(',');
  }

  get peerDcs(): string[] {
    return this.PEER_DCS ? this.PEER_DCS.split(',').filter((dc) => dc !== this.DC_ID) : [];
  }
}
