import { accessSync, constants, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import type { ConfigProblem } from '../runtime/config';

/** SASL mechanisms the apps offer a broker (kafkajs' names). */
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** The names of the `KAFKA_TLS*` and `KAFKA_SASL_*` variables. */
export const KAFKA_SECURITY_VARIABLES = [
  'KAFKA_TLS',
  'KAFKA_TLS_CA_FILE',
  'KAFKA_TLS_CERT_FILE',
  'KAFKA_TLS_KEY_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
] as const;

/** The `KAFKA_TLS*` and `KAFKA_SASL_*` variables, as `DcConfig` holds them. */
export interface KafkaSecurityVariables {
  KAFKA_TLS?: string;
  KAFKA_TLS_CA_FILE?: string;
  KAFKA_TLS_CERT_FILE?: string;
  KAFKA_TLS_KEY_FILE?: string;
  KAFKA_SASL_MECHANISM?: string;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  KAFKA_SASL_PASSWORD_FILE?: string;
}

/** How a client reaches the brokers: kafkajs' `ssl` and `sasl` options (plain data, so a worker thread can be given it). */
export interface KafkaSecurity {
  ssl?: ConnectionOptions | true;
  sasl?: SASLOptions;
}

/**
 * What is wrong with the security variables: KAFKA_TLS is true or false and
 * the mechanism one of ours (DcConfig's decorators say so first for its own);
 * SASL needs a mechanism, a user and exactly one of password and password
 * file; a client certificate needs its key; every file named must be readable.
 * Reasons never hold a value. `nameOf` gives the variable's name as the
 * operator set it (e.g. `PEER_DC2_KAFKA_SASL_USERNAME` for a peer's).
 */
export function kafkaSecurityProblems(
  v: KafkaSecurityVariables,
  nameOf: (variable: string) => string = (variable) => variable,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (v.KAFKA_TLS !== undefined && v.KAFKA_TLS !== 'true' && v.KAFKA_TLS !== 'false')
    problems.push({ variable: 'KAFKA_TLS', reason: 'must be true or false' });
  if (v.KAFKA_SASL_MECHANISM !== undefined && !(KAFKA_SASL_MECHANISMS as readonly string[]).includes(v.KAFKA_SASL_MECHANISM))
    problems.push({ variable: 'KAFKA_SASL_MECHANISM', reason: `must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}` });
  const sasl = v.KAFKA_SASL_MECHANISM !== undefined;
  if (sasl && v.KAFKA_SASL_USERNAME === undefined)
    problems.push({ variable: 'KAFKA_SASL_USERNAME', reason: 'is required with KAFKA_SASL_MECHANISM' });
  if (sasl && v.KAFKA_SASL_PASSWORD === undefined && v.KAFKA_SASL_PASSWORD_FILE === undefined)
    problems.push({ variable: 'KAFKA_SASL_PASSWORD', reason: 'is required with KAFKA_SASL_MECHANISM (or KAFKA_SASL_PASSWORD_FILE)' });
  if (v.KAFKA_SASL_PASSWORD !== undefined && v.KAFKA_SASL_PASSWORD_FILE !== undefined)
    problems.push({ variable: 'KAFKA_SASL_PASSWORD_FILE', reason: 'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both' });
  if (!sasl)
    for (const variable of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const)
      if (v[variable] !== undefined) problems.push({ variable, reason: 'is used only with KAFKA_SASL_MECHANISM, which is not set' });
  if ((v.KAFKA_TLS_CERT_FILE === undefined) !== (v.KAFKA_TLS_KEY_FILE === undefined))
    problems.push({
      variable: v.KAFKA_TLS_CERT_FILE === undefined ? 'KAFKA_TLS_CERT_FILE' : 'KAFKA_TLS_KEY_FILE',
      reason: 'a client certificate needs both KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE',
    });
  const tlsFiles = v.KAFKA_TLS_CA_FILE ?? v.KAFKA_TLS_CERT_FILE ?? v.KAFKA_TLS_KEY_FILE;
  if (v.KAFKA_TLS === 'false' && tlsFiles !== undefined)
    problems.push({ variable: 'KAFKA_TLS', reason: 'is false, but KAFKA_TLS_* files are set' });
  for (const variable of ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE', 'KAFKA_SASL_PASSWORD_FILE'] as const) {
    const file = v[variable];
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      problems.push({ variable, reason: 'names a file this process cannot read' });
    }
  }
  return problems.map((problem) => ({ variable: nameOf(problem.variable), reason: problem.reason.replace(/\bKAFKA_[A-Z_]+/g, nameOf) }));
}

/**
 * kafkajs options from the security variables (checked by
 * `kafkaSecurityProblems` at start): TLS when `KAFKA_TLS=true` or any
 * `KAFKA_TLS_*` file is set, verifying the brokers against the CA file (or the
 * system's CAs); SASL when a mechanism is set. Reads the files now.
 */
export function kafkaSecurity(v: KafkaSecurityVariables): KafkaSecurity {
  const security: KafkaSecurity = {};
  if (v.KAFKA_TLS === 'true' || v.KAFKA_TLS_CA_FILE !== undefined || v.KAFKA_TLS_CERT_FILE !== undefined) {
    const ssl: ConnectionOptions = {};
    if (v.KAFKA_TLS_CA_FILE !== undefined) ssl.ca = [readFileSync(v.KAFKA_TLS_CA_FILE, 'utf8')];
    if (v.KAFKA_TLS_CERT_FILE !== undefined && v.KAFKA_TLS_KEY_FILE !== undefined) {
      ssl.cert = readFileSync(v.KAFKA_TLS_CERT_FILE, 'utf8');
      ssl.key = readFileSync(v.KAFKA_TLS_KEY_FILE, 'utf8');
    }
    security.ssl = Object.keys(ssl).length > 0 ? ssl : true;
  }
  if (v.KAFKA_SASL_MECHANISM !== undefined) {
    const password = v.KAFKA_SASL_PASSWORD ?? readFileSync(v.KAFKA_SASL_PASSWORD_FILE!, 'utf8').replace(/\r?\n$/, '');
    security.sasl = { mechanism: v.KAFKA_SASL_MECHANISM as KafkaSaslMechanism, username: v.KAFKA_SASL_USERNAME!, password } as SASLOptions;
  }
  return security;
}
