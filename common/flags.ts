// Flags, Mesos style. Each command declares its flags once (name, type,
// default, help); parsing checks them and `--help` is generated. A flag is
// given on the command line (`--name=value`, `--name value`; booleans also
// `--name`, `--no-name`, `--name=false`) or in the environment as
// PREFIX<NAME> (MESOS_ for master and agent, as Mesos reads them; MESOS_TS_
// for our own commands); the command line wins. A value `file://PATH` is
// read from PATH (absolute, or relative to the working directory), as Mesos
// does. Commands that stand in for a Mesos one (master, agent) also name
// Mesos's flags, so that a Mesos flag they lack is refused as such, not as
// a typo.
import { readFileSync } from 'node:fs';
import { InvalidArgument } from './errors.js';

/** 'duration' values are seconds; the text may carry a unit (500ms, 5s, 2mins). */
export type FlagType = 'string' | 'number' | 'boolean' | 'duration';

export interface FlagSpec {
  readonly type: FlagType;
  readonly help: string;
  readonly default?: string | number | boolean;
  readonly required?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type ValueOf<S extends FlagSpec> = S['type'] extends 'number' | 'duration' ? number : S['type'] extends 'boolean' ? boolean : string;

export type Flags<S extends FlagSpecs> = {
  -readonly [K in keyof S]: S[K]['required'] extends true
    ? ValueOf<S[K]>
    : S[K]['default'] extends string | number | boolean
      ? ValueOf<S[K]>
      : ValueOf<S[K]> | undefined;
} & { help: boolean; _: string[] };

/** Mesos's prefix (master, agent), and ours for the commands Mesos has no environment names for. */
const MESOS_ENV_PREFIX = 'MESOS_';
const MESOS_TS_ENV_PREFIX = 'MESOS_TS_';

export interface ParseOptions {
  /**
   * Flags of the Mesos component this command stands in for; one not in
   * `specs` is refused with `refuse(name)`. Such a command reads the
   * environment under Mesos's names (MESOS_<FLAG>).
   */
  readonly mesos?: { readonly flags: ReadonlySet<string>; readonly refuse: (name: string) => string };
  /** Prefix of this command's environment variables (default: MESOS_ with `mesos`, else MESOS_TS_). */
  readonly envPrefix?: string;
  /**
   * The environment to read flags from. Commands pass process.env; library
   * callers (startMaster, startAgent, tests) pass nothing and read none.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Told what is set but ignored (a Mesos flag mesos-ts lacks, set in the environment). Default: stderr. */
  readonly warn?: (message: string) => void;
}

/** A value and where it came from, for messages: `flag --port` or `MESOS_PORT`. */
interface Given {
  readonly value: string;
  readonly from: string;
}

export function parseFlags<S extends FlagSpecs>(specs: S, argv: readonly string[], options: ParseOptions = {}): Flags<S> {
  const out: Record<string, unknown> = { help: false, _: [] as string[] };
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) out[name] = spec.default;
  const given = fromCommandLine(specs, argv, options, out);
  if (options.env) {
    for (const [name, env] of fromEnvironment(specs, options.env, options)) if (!given.has(name)) given.set(name, env);
  }
  for (const [name, source] of given) {
    const { value, from } = fetchValue(source);
    out[name] = convert(from, specs[name]!, value);
  }
  if (!out.help) {
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.required && out[name] === undefined) {
        const env = options.env ? `; or set ${envName(name, options)}` : '';
        throw new InvalidArgument(`flag --${name} is required (${spec.help})${env}`);
      }
    }
  }
  return out as Flags<S>;
}

/** The command line's flags by name (the last one given wins); --help and arguments go to `out`. */
function fromCommandLine(specs: FlagSpecs, argv: readonly string[], options: ParseOptions, out: Record<string, unknown>): Map<string, Given> {
  const given = new Map<string, Given>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      (out._ as string[]).push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const written = eq >= 0 ? arg.slice(0, eq) : arg;
    let name = written.slice(2).replaceAll('-', '_');
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specOf(specs, name);
    if (!spec && name.startsWith('no_') && specOf(specs, name.slice(3))) {
      name = name.slice(3);
      spec = specOf(specs, name)!;
      // As Mesos: --no-NAME only for a boolean, and with no value.
      if (spec.type !== 'boolean') throw new InvalidArgument(`${written}: --${name} is not a boolean flag`);
      if (value !== undefined) throw new InvalidArgument(`${written} takes no value, got '${value}'`);
      value = 'false';
    }
    if (!spec) {
      const mesosName = options.mesos?.flags.has(name) ? name : name.startsWith('no_') && options.mesos?.flags.has(name.slice(3)) ? name.slice(3) : null;
      if (mesosName !== null) throw new InvalidArgument(options.mesos!.refuse(mesosName));
      throw new InvalidArgument(`unknown flag --${name} (see --help)`);
    }
    if (spec.type === 'boolean' && (value === undefined || value === '')) value = 'true';
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new InvalidArgument(`flag --${name} needs a value`);
    }
    given.set(name, { value, from: `flag --${name}` });
  }
  return given;
}

/**
 * PREFIX<NAME> variables naming one of `specs` (the rest of the name in any
 * case, as Mesos). Other variables with the prefix are ignored, as Mesos
 * ignores them; one naming a Mesos flag this command lacks is ignored with a
 * warning: images built for Mesos set many, and refusing them would stop
 * such an image from starting at all.
 */
function fromEnvironment(specs: FlagSpecs, env: Readonly<Record<string, string | undefined>>, options: ParseOptions): Map<string, Given> {
  const prefix = envPrefix(options);
  const found = new Map<string, Given>();
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(prefix) || value === undefined) continue;
    const name = key.slice(prefix.length).toLowerCase();
    const spec = specOf(specs, name);
    if (spec) found.set(name, { value: spec.type === 'boolean' && value === '' ? 'true' : value, from: key });
    else if (name !== 'help' && options.mesos?.flags.has(name)) (options.warn ?? warnOnStderr)(`${key} ignored: ${options.mesos.refuse(name)}`);
  }
  return found;
}

/** Own keys only: `--constructor` or MESOS_CONSTRUCTOR is not a flag. */
const specOf = (specs: FlagSpecs, name: string): FlagSpec | undefined => (Object.hasOwn(specs, name) ? specs[name] : undefined);

const warnOnStderr = (message: string) => void process.stderr.write(`mesos-ts: warning: ${message}\n`);

const envPrefix = (options: Pick<ParseOptions, 'envPrefix' | 'mesos'>) => options.envPrefix ?? (options.mesos ? MESOS_ENV_PREFIX : MESOS_TS_ENV_PREFIX);

/** The environment variable naming flag `name`: MESOS_WORK_DIR for the master's --work_dir, MESOS_TS_MASTER for execute's --master. */
export function envName(name: string, options: Pick<ParseOptions, 'envPrefix' | 'mesos'> = {}): string {
  return `${envPrefix(options)}${name.toUpperCase()}`;
}

/**
 * `file://PATH` is read from PATH (what follows file://, so file:///etc/x is
 * /etc/x and file://x is x in the working directory), as Mesos reads it; the
 * one newline editors end a file with is dropped.
 */
function fetchValue({ value, from }: Given): Given {
  if (!value.startsWith('file://')) return { value, from };
  const path = value.slice('file://'.length);
  try {
    return { value: readFileSync(path, 'utf8').replace(/\r?\n$/, ''), from: `${from} (read from '${path}')` };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InvalidArgument(`${from}: cannot read file '${path}' (${why})`, { cause: err });
  }
}

/** `from` names the source in messages: `flag --port` or `MESOS_PORT`. */
function convert(from: string, spec: FlagSpec, value: string): string | number | boolean {
  if (spec.type === 'string') return value;
  if (spec.type === 'duration') return durationOf(value, from);
  if (spec.type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgument(`${from}: '${value}' is not a number`);
    return n;
  }
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgument(`${from}: '${value}' is not true or false (nor 1 or 0)`);
}

/**
 * The --help text: every flag with its environment variable. `options` are
 * the command's parse options (which prefix its variables take).
 */
export function usage(command: string, summary: string, specs: FlagSpecs, options: Pick<ParseOptions, 'envPrefix' | 'mesos'> = {}): string {
  const lines = [
    `Usage: mesos-ts ${command} [flags]`, '', summary, '',
    `Flags, on the command line or in the environment variable beside each (the command line wins).`,
    'A value file://PATH is read from the file PATH (file:///etc/x, or file://x in the working directory).', '',
  ];
  const left = (name: string, spec: FlagSpec) => (spec.type === 'boolean' ? `--[no-]${name}` : `--${name}`);
  const entries = Object.entries(specs);
  const width = Math.max(...entries.map(([n, s]) => left(n, s).length)) + 2;
  const envWidth = Math.max(...entries.map(([n]) => envName(n, options).length)) + 2;
  for (const [name, spec] of entries) {
    const dflt = spec.default !== undefined ? ` (default: ${String(spec.default)})` : spec.required ? ' (required)' : '';
    lines.push(`  ${left(name, spec).padEnd(width)}${envName(name, options).padEnd(envWidth)}${spec.help}${dflt}`);
  }
  lines.push(`  ${'--help'.padEnd(width + envWidth)}Show this help`);
  return lines.join('\n');
}

/** Parses a duration given in seconds or with a unit: 500ms, 5s, 2mins, 1hrs. */
export function parseDuration(text: string, flag: string): number {
  return durationOf(text, `flag --${flag}`);
}

function durationOf(text: string, from: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|secs?|s|mins?|m|hrs?|h|days?|d)?\s*$/.exec(text);
  if (!m) throw new InvalidArgument(`${from}: '${text}' is not a duration (e.g. 5s, 500ms, 2mins)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor: Record<string, number> = {
    ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, sec: 1, secs: 1, m: 60, min: 60, mins: 60, h: 3600, hr: 3600, hrs: 3600, d: 86400, day: 86400, days: 86400,
  };
  return n * (factor[unit] ?? 1);
}

/** Parsed flags back as arguments of a `mesos-ts` process: {logging_level: 'x', ssl_enabled: true} as --logging_level=x --ssl_enabled=true; undefined ones left out. */
export function flagArgs(flags: object): string[] {
  return Object.entries(flags).flatMap(([k, v]: [string, unknown]) => (v === undefined ? [] : [`--${k}=${String(v)}`]));
}
