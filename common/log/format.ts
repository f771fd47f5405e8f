// The two shapes of a log line. `json`: the record as one JSON object per
// line, for log shippers. `text`: as Apache Mesos's glog lines read,
//
//   I1206 03:20:00.123456  4242 master] framework 7f...-0000 (demo) subscribed framework_id=7f...-0000 roles=*
//   ^level ^mmdd ^time (UTC) ^pid   ^component ^message                  ^fields as key=value
//
// Pure: a record in, a line (without its newline) out; an ERROR line with an
// `err` is followed by the error's stack, indented.

export type LogFormat = 'text' | 'json';

/** A record as the logger serialized it: level by Mesos's name, ISO time, then the bindings and fields. */
export interface LogRecord {
  readonly level?: string;
  readonly time?: string;
  readonly pid?: number;
  readonly component?: string;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

const LEVEL_LETTER: Readonly<Record<string, string>> = { TRACE: 'V', DEBUG: 'V', INFO: 'I', WARNING: 'W', ERROR: 'E', FATAL: 'F' };
/** Shown as the line's head, not again among the fields. */
const HEAD = new Set(['level', 'time', 'pid', 'component', 'msg']);

export function formatRecord(record: LogRecord, format: LogFormat): string {
  return format === 'json' ? JSON.stringify(record) : formatText(record);
}

export function formatText(record: LogRecord): string {
  const letter = LEVEL_LETTER[record.level ?? ''] ?? 'I';
  const time = record.time ?? '';
  // 2026-12-06T03:20:00.123456789Z -> 1206 03:20:00.123456
  const stamp = `${time.slice(5, 7)}${time.slice(8, 10)} ${time.slice(11, 19)}.${(time.slice(20, 26) + '000000').slice(0, 6)}`;
  const pid = String(record.pid ?? '').padStart(5);
  const fields: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HEAD.has(key) || value === undefined) continue;
    fields.push(`${key}=${fieldText(key, value)}`);
  }
  const message = record.msg ?? '';
  const line = `${letter}${stamp} ${pid} ${record.component ?? '-'}] ${message}${fields.length > 0 ? ' ' + fields.join(' ') : ''}`;
  // An error's stack follows an ERROR line, indented, as glog prints a failure's trace.
  const stack = letter === 'E' || letter === 'F' ? errorStack(record.err) : null;
  return stack ? `${line}\n${stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n')}` : line;
}

function errorStack(err: unknown): string | null {
  return err !== null && typeof err === 'object' && 'stack' in err && typeof err.stack === 'string' ? err.stack : null;
}

function fieldText(key: string, value: unknown): string {
  // An error shows its message; its stack is in the JSON format.
  if (key === 'err' && value !== null && typeof value === 'object' && 'message' in value) return quoted(String(value.message));
  return typeof value === 'string' ? quoted(value) : JSON.stringify(value);
}

function quoted(text: string): string {
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}
