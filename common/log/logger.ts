// The logger of the master, the agent and the long-running commands: pino,
// writing through one sink that redacts every record (redact.ts), then
// writes it in the chosen format (format.ts) to stderr, or to a caller's
// line sink, and, with --log_dir, to a rotated file.
//
// A component logs through children that carry its fields:
//   const logger = createLogger({ component: 'master' });
//   logger.child({ component: 'registry' }).warn({ agent_id }, 'skipping an unreadable agent');
//   ctx.logger.info({ framework_id, task_id }, `task ${taskId} launched`);
// Writes are synchronous (no worker thread): nothing is lost when the process exits.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';
import { RotatingFile, type Rotation } from '../rotating-file.js';
import { formatRecord, type LogFormat, type LogRecord } from './format.js';
import { redact } from './redact.js';

/** pino's logger: `info(fields?, message)`, `warn`, `error`, `child(bindings)`. */
export type Logger = PinoLogger;

/** Apache Mesos's --logging_level names. */
export type LoggingLevel = 'INFO' | 'WARNING' | 'ERROR';

export interface LoggerOptions {
  /** `component` of every line: master, agent, ... (children may name their own). */
  readonly component: string;
  /** Lines below it are dropped. Default INFO. */
  readonly level?: LoggingLevel;
  /** Default: text when writing to a terminal or to `sink`, json otherwise. */
  readonly format?: LogFormat;
  /** Nothing to stderr (or `sink`); the --log_dir file is still written. */
  readonly quiet?: boolean;
  /** Also write to `<logDir>/mesos-<component>.log`, rotated. */
  readonly logDir?: string;
  /** Default: at 10 MB, 5 rotated files kept. */
  readonly rotation?: Rotation;
  /** Where formatted lines go instead of stderr (tests, `mesos-ts local`'s collected log). */
  readonly sink?: (line: string) => void;
}

export const DEFAULT_LOG_ROTATION: Rotation = { maxBytes: 10 * 1024 * 1024, keep: 5 };

const PINO_LEVEL: Readonly<Record<LoggingLevel, string>> = { INFO: 'info', WARNING: 'warn', ERROR: 'error' };
const MESOS_LEVEL: Readonly<Record<string, string>> = {
  trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'FATAL',
};

interface Output {
  readonly format: LogFormat;
  write(line: string): void;
}

export function createLogger(options: LoggerOptions): Logger {
  const outputs: Output[] = [];
  if (!options.quiet) {
    const sink = options.sink;
    const format = options.format ?? (sink || process.stderr.isTTY ? 'text' : 'json');
    outputs.push(sink ? { format, write: sink } : { format, write: (line) => void process.stderr.write(line + '\n') });
  }
  if (options.logDir !== undefined) {
    mkdirSync(options.logDir, { recursive: true });
    const file = new RotatingFile(join(options.logDir, `mesos-${options.component}.log`), {
      ...(options.rotation ?? DEFAULT_LOG_ROTATION), wholeChunks: true,
    });
    // A file is read by tools more than by people: JSON unless text was asked for.
    const format = options.format ?? 'json';
    outputs.push({ format, write: (line) => void file.write(line + '\n') });
  }
  return pino(
    {
      level: outputs.length === 0 ? 'silent' : PINO_LEVEL[options.level ?? 'INFO'],
      base: { pid: process.pid, component: options.component },
      timestamp: stdTimeFunctions.isoTimeNano,
      formatters: { level: (label) => ({ level: MESOS_LEVEL[label] ?? label.toUpperCase() }) },
    },
    {
      write(serialized: string) {
        // Children may rebind `component`: the parse keeps the last (the child's).
        const record = redact(JSON.parse(serialized)) as LogRecord;
        for (const output of outputs) output.write(formatRecord(record, output.format));
      },
    },
  );
}

/** Logs nothing: for unit tests and embedders that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
