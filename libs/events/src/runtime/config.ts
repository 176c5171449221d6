import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError, ValidationTypes } from 'class-validator';

/** A variable at fault and why (never its value). */
export interface ConfigProblem {
  variable: string;
  reason: string;
}

/** Raised at start-up when the environment is missing or malformed; names every variable at fault. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable}: ${p.reason}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Builds a configuration object from environment variables and validates it
 * with the class-validator rules of `schema`, whose property names are the
 * variable names. Values are never echoed back: a malformed secret stays secret.
 */
export function loadConfig<T extends object>(schema: (new () => T) & VariableFamilies, env: NodeJS.ProcessEnv = process.env): T {
  const raw: Record<string, string> = {};
  // Variables named after something configured (e.g. `PEER_DC2_KAFKA_SASL_USERNAME`): kept as strings, checked by crossCheck.
  const family = schema.variableFamily;
  const members = family ? Object.keys(env).filter((key) => family.test(key)) : [];
  for (const key of [...configKeys(schema), ...members]) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const config = plainToInstance(schema, { ...new schema(), ...raw }, { enableImplicitConversion: true });
  const errors = validateSync(config, { forbidUnknownValues: true });
  if (errors.length > 0) throw new ConfigError(errors.flatMap(describe));
  // Rules about several variables at once, once each is valid alone.
  const together = (config as { crossCheck?: () => ConfigProblem[] }).crossCheck?.() ?? [];
  if (together.length > 0) throw new ConfigError(together);
  return config;
}

/**
 * A schema whose variables include a family of names that depend on other
 * values (one set per peer DC): every variable of the environment whose name
 * matches is read, as a string, and the schema's `crossCheck` judges them.
 */
export interface VariableFamilies {
  variableFamily?: RegExp;
}

function describe(error: ValidationError): ConfigProblem[] {
  const reasons = Object.values(error.constraints ?? {});
  const missing = error.value === undefined;
  return [{ variable: error.property, reason: missing ? 'is required' : reasons.join(', ') }];
}

/** A variable that a configuration schema reads. */
export interface ConfigVariable {
  name: string;
  /** loadConfig refuses an environment without it: no default, and no `@IsOptional` or `@ValidateIf` lets it be absent. */
  required: boolean;
}

/**
 * The variables loadConfig reads for `schema`, for tools that check a deployment's
 * environment (docker/compose.two-dc.yml) against what the apps accept.
 * A variable behind `@ValidateIf` counts as optional: it is required only together with another.
 */
export function configVariables(schema: new () => object): ConfigVariable[] {
  const defaults = new schema() as Record<string, unknown>;
  const conditional = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(schema, '', true, false)
      .filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION)
      .map((m) => m.propertyName),
  );
  return configKeys(schema).map((name) => ({ name, required: defaults[name] === undefined && !conditional.has(name) }));
}

/** Variable names a schema reads: its own properties and those declared by class-validator rules (which include required ones without a default). */
function configKeys(schema: new () => object): string[] {
  const declared = getMetadataStorage()
    .getTargetValidationMetadatas(schema, '', true, false)
    .map((m) => m.propertyName);
  return [...new Set([...Object.keys(new schema()), ...declared])];
}
