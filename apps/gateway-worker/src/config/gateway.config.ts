import { IsOptional, IsString } from 'class-validator';
import { DcConfig } from '@apim/events';

export class GatewayConfig extends DcConfig {
  override PORT = 8080;

  /** File where the routing table and its offsets are snapshotted. */
  @IsOptional()
  @IsString()
  SNAPSHOT_FILE?: string;
}
