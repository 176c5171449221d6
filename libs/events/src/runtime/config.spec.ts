import 'reflect-metadata';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateIf } from 'class-validator';
import { ConfigError, configVariables, loadConfig } from './config';

class SampleConfig {
  @Matches(/^[a-z][a-z0-9-]*$/)
  DC_ID!: string;

  @IsInt()
  @Min(1)
  @Max(65535)
  PORT: number = 4000;

  @IsIn(['active-passive', 'active-active'])
  REPLICATION_MODE = 'active-passive';

  @IsString()
  SECRET!: string;
}

describe('loadConfig', () => {
  it('reads variables, applies defaults and converts numbers', () => {
    const config = loadConfig(SampleConfig, { DC_ID: 'dc1', PORT: '4100', SECRET: 's' });
    expect(config).toMatchObject({ DC_ID: 'dc1', PORT: 4100, REPLICATION_MODE: 'active-passive' });
  });

  it('names a missing variable', () => {
    expect(() => loadConfig(SampleConfig, { PORT: '1', SECRET: 's' })).toThrow(/DC_ID: is required/);
  });

  it('names every malformed variable at once', () => {
    try {
      loadConfig(SampleConfig, { DC_ID: 'DC 1', PORT: 'http', REPLICATION_MODE: 'both', SECRET: 's' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['DC_ID', 'PORT', 'REPLICATION_MODE']);
    }
  });

  it('never echoes a value back', () => {
    expect(() => loadConfig(SampleConfig, { DC_ID: 'hunter2-SECRET!' })).toThrow(ConfigError);
    try {
      loadConfig(SampleConfig, { DC_ID: 'hunter2-SECRET!' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

class SeededConfig extends SampleConfig {
  @IsOptional()
  @IsString()
  REGION?: string;

  @ValidateIf((config: SeededConfig) => config.SEED_PASSWORD !== undefined)
  @IsString()
  SEED_USER?: string;

  @ValidateIf((config: SeededConfig) => config.SEED_USER !== undefined)
  @IsString()
  SEED_PASSWORD?: string;
}

describe('configVariables', () => {
  it('lists every variable loadConfig reads, inherited ones included', () => {
    expect(
      configVariables(SeededConfig)
        .map((v) => v.name)
        .sort(),
    ).toEqual(['DC_ID', 'PORT', 'REGION', 'REPLICATION_MODE', 'SECRET', 'SEED_PASSWORD', 'SEED_USER'].sort());
  });

  it('marks as required exactly the variables without a default or a condition', () => {
    const required = configVariables(SeededConfig).filter((v) => v.required);
    expect(required.map((v) => v.name).sort()).toEqual(['DC_ID', 'SECRET']);
  });

  it('agrees with loadConfig: the required variables alone are a valid environment', () => {
    const env = Object.fromEntries(
      configVariables(SeededConfig)
        .filter((v) => v.required)
        .map((v) => [v.name, v.name === 'DC_ID' ? 'dc1' : 'x']),
    );
    expect(() => loadConfig(SeededConfig, env)).not.toThrow();
  });
});
