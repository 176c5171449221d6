/** Severity levels in increasing order. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A structured JSON logger: one object per line on stdout, with the process's
 * service name and DC. Callers pass fields, never pre-formatted secrets.
 */
export class JsonLogger {
  constructor(
    private readonly base: Record<string, unknown>,
    private readonly minLevel: LogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  child(fields: Record<string, unknown>): JsonLogger {
    return new JsonLogger({ ...this.base, ...fields }, this.minLevel, this.write);
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.emit('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.emit('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.emit('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.emit('error', msg, fields);
  }

  private emit(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.minLevel)) return;
    this.write(JSON.stringify({ time: new Date().toISOString(), level, ...this.base, msg, ...fields }, errorReplacer));
  }
}

/** Errors as name and message; bigints (Kafka offsets) as their decimal string, which JSON.stringify would throw on. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

/**
 * Adapts a JsonLogger to the shape of Nest's LoggerService (log, error, warn,
 * debug, verbose), so framework messages come out as the same JSON lines.
 */
export function nestLogger(logger: JsonLogger) {
  const context = (params: unknown[]) => (typeof params[params.length - 1] === 'string' ? { context: params[params.length - 1] } : {});
  return {
    log: (message: unknown, ...params: unknown[]) => logger.info(String(message), context(params)),
    error: (message: unknown, ...params: unknown[]) => logger.error(String(message), context(params)),
    warn: (message: unknown, ...params: unknown[]) => logger.warn(String(message), context(params)),
    debug: (message: unknown, ...params: unknown[]) => logger.debug(String(message), context(params)),
    verbose: (message: unknown, ...params: unknown[]) => logger.debug(String(message), context(params)),
  };
}
