// The logging flags every long-running command takes, named as Apache Mesos
// names them (--logging_level, --log_dir, --quiet) plus --log_format; and
// their check, once, at the edge.
import type { FlagSpecs } from '../flags.js';
import { InvalidArgument } from '../errors.js';
import type { LogFormat } from './format.js';
import type { LoggerOptions, LoggingLevel } from './logger.js';

export const LOG_FLAGS = {
  logging_level: { type: 'string', default: 'INFO', help: 'log lines at this level and above: INFO, WARNING or ERROR (Mesos\'s names; lower case too)' },
  log_format: {
    type: 'string', help: 'text (lines as Mesos\'s glog writes them) or json (one object per line, for log shippers); default text on a terminal, json otherwise',
  },
  log_dir: { type: 'string', help: 'also write the log to DIR/mesos-<component>.log (json unless --log_format=text), rotated at 10MB, 5 files kept' },
  quiet: { type: 'boolean', default: false, help: 'write no log to stderr (--log_dir files are still written)' },
} as const satisfies FlagSpecs;

export interface LogFlags {
  readonly logging_level: string;
  readonly log_format?: string | undefined;
  readonly log_dir?: string | undefined;
  readonly quiet: boolean;
}

/** Checks the flags; every message names the flag and the value. */
export function loggerOptions(flags: LogFlags, component: string, sink?: (line: string) => void): LoggerOptions {
  return {
    component,
    level: parseLoggingLevel(flags.logging_level),
    ...(flags.log_format !== undefined ? { format: parseLogFormat(flags.log_format) } : {}),
    ...(flags.log_dir !== undefined ? { logDir: flags.log_dir } : {}),
    quiet: flags.quiet,
    ...(sink ? { sink } : {}),
  };
}

export function parseLoggingLevel(text: string): LoggingLevel {
  const level = text.toUpperCase();
  if (level === 'INFO' || level === 'WARNING' || level === 'ERROR') return level;
  throw new InvalidArgument(`--logging_level must be INFO, WARNING or ERROR, got '${text}'`);
}

export function parseLogFormat(text: string): LogFormat {
  if (text === 'text' || text === 'json') return text;
  throw new InvalidArgument(`--log_format must be 'text' or 'json', got '${text}'`);
}
