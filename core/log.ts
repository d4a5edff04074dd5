/** Structured JSON-lines logging with levels and secret redaction. */

/** Severity levels, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of the supported log levels. */
export type LogLevel = typeof LOG_LEVELS[number];

/**
 * The default `--log-level` of every service: warnings and errors, plus one notice line when a
 * service is ready or stops (see {@linkcode Logger.notice}).
 */
export const DEFAULT_LOG_LEVEL: LogLevel = "warn";

/** A logger bound to a component name. */
export interface Logger {
  /** Logs a debug line. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Logs an info line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Logs a warning line. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Logs an error line. */
  error(message: string, fields?: Record<string, unknown>): void;
  /**
   * Logs a lifecycle line (a service is ready, or stopped) with level `notice`: written at every
   * level but `error`, so the default level (`warn`) still says when a service is up.
   */
  notice(message: string, fields?: Record<string, unknown>): void;
  /** Returns a logger for a sub-component that shares level and sink. */
  child(component: string): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written; default `info` (services default to {@linkcode DEFAULT_LOG_LEVEL}). */
  level?: LogLevel;
  /** Where lines go; default standard error. */
  sink?: (line: string) => void;
  /** Secret strings replaced by `[redacted]` wherever they appear. */
  secrets?: string[];
}

const SECRET_FIELD = /(api[_-]?key|authorization|password|secret|token)$/i;

/** Parses a `--log-level` value, accepting the original's upper-case names. */
export function parseLogLevel(value: string): LogLevel {
  const level = value.toLowerCase() === "warning" ? "warn" : value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`Log level must be one of ${LOG_LEVELS.join(", ")}, got ${value}`);
  }
  return level as LogLevel;
}

/** Creates a logger that writes one JSON object per line. */
export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const sink = options.sink ?? ((line: string) => console.error(line));
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
  const redact = (text: string): string =>
    secrets.reduce((out, secret) => out.replaceAll(secret, "[redacted]"), text);
  const write = (
    level: LogLevel | "notice",
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    const rank = level === "notice" ? LOG_LEVELS.indexOf("warn") : LOG_LEVELS.indexOf(level);
    if (rank < threshold) return;
    const line = JSON.stringify(
      { time: new Date().toISOString(), level, component, message, ...fields },
      (key, value) => {
        if (SECRET_FIELD.test(key) && typeof value === "string") return "[redacted]";
        if (value instanceof Error) return { name: value.name, message: value.message };
        return value;
      },
    );
    sink(redact(line));
  };
  return {
    debug: (message, fields) => write("debug", message, fields),
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    notice: (message, fields) => write("notice", message, fields),
    child: (name) => createLogger(`${component}.${name}`, options),
  };
}
