// Command-line flags, Mesos style: `--name=value`, `--name value`, `--flag`
// and `--no-flag` for booleans. Each command declares its flags once (name,
// type, default, help); parsing checks them and `--help` is generated.
// Commands that stand in for a Mesos one (master, agent) also name Mesos's
// flags, so that a Mesos flag they lack is refused as such, not as a typo.
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

export interface ParseOptions {
  /** Flags of the Mesos component this command stands in for; one not in `specs` is refused with `refuse(name)`. */
  readonly mesos?: { readonly flags: ReadonlySet<string>; readonly refuse: (name: string) => string };
}

export function parseFlags<S extends FlagSpecs>(specs: S, argv: readonly string[], options: ParseOptions = {}): Flags<S> {
  const out: Record<string, unknown> = { help: false, _: [] as string[] };
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) out[name] = spec.default;
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
    let name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)).replaceAll('-', '_');
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specs[name];
    if (!spec && name.startsWith('no_') && specs[name.slice(3)]?.type === 'boolean' && value === undefined) {
      name = name.slice(3);
      spec = specs[name];
      value = 'false';
    }
    if (!spec) {
      const mesosName = options.mesos?.flags.has(name) ? name : name.startsWith('no_') && options.mesos?.flags.has(name.slice(3)) ? name.slice(3) : null;
      if (mesosName !== null) throw new InvalidArgument(options.mesos!.refuse(mesosName));
      throw new InvalidArgument(`unknown flag --${name} (see --help)`);
    }
    if (value === undefined) {
      if (spec.type === 'boolean') value = 'true';
      else {
        value = argv[++i];
        if (value === undefined) throw new InvalidArgument(`flag --${name} needs a value`);
      }
    }
    out[name] = convert(name, spec, value);
  }
  if (!out.help) {
    for (const [name, spec] of Object.entries(specs)) {
      if (spec.required && out[name] === undefined) throw new InvalidArgument(`flag --${name} is required (${spec.help})`);
    }
  }
  return out as Flags<S>;
}

function convert(name: string, spec: FlagSpec, value: string): string | number | boolean {
  if (spec.type === 'string') return value;
  if (spec.type === 'duration') return parseDuration(value, name);
  if (spec.type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgument(`flag --${name}: '${value}' is not a number`);
    return n;
  }
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgument(`flag --${name}: '${value}' is not true or false`);
}

export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`Usage: mesos-ts ${command} [flags]`, '', summary, '', 'Flags:'];
  const width = Math.max(...Object.keys(specs).map((n) => n.length)) + 4;
  for (const [name, spec] of Object.entries(specs)) {
    const dflt = spec.default !== undefined ? ` (default: ${String(spec.default)})` : spec.required ? ' (required)' : '';
    lines.push(`  --${name.padEnd(width)}${spec.help}${dflt}`);
  }
  lines.push(`  --${'help'.padEnd(width)}Show this help`);
  return lines.join('\n');
}

/** Parses a duration given in seconds or with a unit: 500ms, 5s, 2mins, 1hrs. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|secs?|s|mins?|m|hrs?|h|days?|d)?\s*$/.exec(text);
  if (!m) throw new InvalidArgument(`flag --${flag}: '${text}' is not a duration (e.g. 5s, 500ms, 2mins)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor: Record<string, number> = {
    ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, sec: 1, secs: 1, m: 60, min: 60, mins: 60, h: 3600, hr: 3600, hrs: 3600, d: 86400, day: 86400, days: 86400,
  };
  return n * (factor[unit] ?? 1);
}
