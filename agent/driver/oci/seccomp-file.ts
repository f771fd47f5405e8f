// Seccomp profiles read from files, as Mesos's --seccomp_config_dir takes
// them: Docker's profile format (defaultAction, architectures or archMap,
// syscalls with names, action, errnoRet, args, includes/excludes), checked
// field by field when the agent starts and turned into the OCI linux.seccomp
// runc reads. A rule's includes/excludes are settled here, once: `caps`
// against --effective_capabilities, `arches` against this host.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { InvalidArgument } from '../../../common/errors.js';

const ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'];
const OPS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
/** Docker's names for this host's architecture in `includes.arches` / `excludes.arches`. */
const HOST_ARCHES: Record<string, readonly string[]> = { x64: ['amd64', 'x86_64'], arm64: ['arm64', 'aarch64'], arm: ['arm'], ia32: ['x86', '386'] };

type Json = Record<string, unknown>;

/** An OCI `linux.seccomp`. */
export type SeccompProfile = Readonly<Record<string, unknown>>;

/** The file `name` (or `name`.json) in `dir`; throws InvalidArgument naming `what` chose it (the flag, or a task's field), the file and the field. */
export function readSeccompProfile(dir: string, name: string, capabilities: readonly string[], what = '--seccomp_profile_name'): SeccompProfile | null {
  if (isAbsolute(name) || normalize(name).split('/').includes('..')) {
    throw new InvalidArgument(`${what} '${name}' must name a file inside --seccomp_config_dir ${dir}`);
  }
  if (!isDirectory(dir)) throw new InvalidArgument(`--seccomp_config_dir ${dir} is not a directory`);
  const path = [join(dir, name), join(dir, `${name}.json`)].find((p) => readable(p));
  if (!path) throw new InvalidArgument(`${what} '${name}': no file ${join(dir, name)} (nor ${name}.json) in --seccomp_config_dir`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InvalidArgument(`seccomp profile ${path}: not JSON (${(err as Error).message})`);
  }
  return toOci(json, path, new Set(capabilities.map((c) => (c.startsWith('CAP_') ? c : `CAP_${c}`))));
}

function toOci(json: unknown, path: string, caps: ReadonlySet<string>): SeccompProfile {
  const bad = (field: string, why: string): never => {
    throw new InvalidArgument(`seccomp profile ${path}: ${field} ${why}`);
  };
  if (!isObject(json)) return bad('the profile', 'must be a JSON object');
  const action = (value: unknown, field: string): string => (typeof value === 'string' && ACTIONS.includes(value) ? value : bad(field, `must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(value)}`));
  const strings = (value: unknown, field: string): string[] => (Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '') ? value : bad(field, 'must be a list of names'));
  const defaultAction = action(json.defaultAction, 'defaultAction');
  let architectures: string[] = [];
  if (json.archMap !== undefined) {
    if (!Array.isArray(json.archMap)) bad('archMap', 'must be a list');
    for (const [i, a] of (json.archMap as unknown[]).entries()) {
      if (!isObject(a)) return bad(`archMap[${i}]`, 'must be an object');
      architectures.push(...strings([a.architecture], `archMap[${i}].architecture`), ...(a.subArchitectures ? strings(a.subArchitectures, `archMap[${i}].subArchitectures`) : []));
    }
  } else if (json.architectures !== undefined) architectures = strings(json.architectures, 'architectures');
  if (json.syscalls !== undefined && !Array.isArray(json.syscalls)) bad('syscalls', 'must be a list');
  const syscalls: Json[] = [];
  for (const [i, rule] of ((json.syscalls as unknown[] | undefined) ?? []).entries()) {
    const field = `syscalls[${i}]`;
    if (!isObject(rule)) return bad(field, 'must be an object');
    const names = rule.names !== undefined ? strings(rule.names, `${field}.names`) : strings([rule.name], `${field}.name`);
    const ruleAction = action(rule.action, `${field}.action`);
    if (rule.errnoRet !== undefined && !(Number.isInteger(rule.errnoRet) && (rule.errnoRet as number) >= 0)) bad(`${field}.errnoRet`, 'must be a non-negative integer');
    const args = ((rule.args ?? []) as unknown[]);
    if (!Array.isArray(args)) bad(`${field}.args`, 'must be a list');
    const ociArgs = args.map((a, j) => {
      const at = `${field}.args[${j}]`;
      if (!isObject(a)) return bad(at, 'must be an object');
      if (!(Number.isInteger(a.index) && (a.index as number) >= 0 && (a.index as number) < 6)) bad(`${at}.index`, 'must be 0 to 5');
      if (!(Number.isInteger(a.value) && (a.value as number) >= 0)) bad(`${at}.value`, 'must be a non-negative integer');
      if (a.valueTwo !== undefined && !(Number.isInteger(a.valueTwo) && (a.valueTwo as number) >= 0)) bad(`${at}.valueTwo`, 'must be a non-negative integer');
      if (typeof a.op !== 'string' || !OPS.includes(a.op)) bad(`${at}.op`, `must be one of ${OPS.join(', ')}, got ${JSON.stringify(a.op)}`);
      return { index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op };
    });
    if (!applies(rule, caps, field, bad)) continue;
    syscalls.push({ names, action: ruleAction, ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}), ...(ociArgs.length > 0 ? { args: ociArgs } : {}) });
  }
  return { defaultAction, ...(architectures.length > 0 ? { architectures } : {}), syscalls };
}

/** Docker's conditions on a rule: every `includes` holds and no `excludes` does. */
function applies(rule: Json, caps: ReadonlySet<string>, field: string, bad: (field: string, why: string) => never): boolean {
  const host = HOST_ARCHES[process.arch] ?? [process.arch];
  const test = (cond: unknown, name: string): { caps: boolean | null; arches: boolean | null } => {
    if (cond === undefined) return { caps: null, arches: null };
    if (!isObject(cond)) return bad(`${field}.${name}`, 'must be an object');
    const list = (v: unknown, f: string) => (v === undefined ? null : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : bad(`${field}.${name}.${f}`, 'must be a list of names'));
    const c = list(cond.caps, 'caps');
    const a = list(cond.arches, 'arches');
    return { caps: c === null ? null : name === 'includes' ? c.every((x) => caps.has(x)) : c.some((x) => caps.has(x)), arches: a === null ? null : name === 'includes' ? a.some((x) => host.includes(x)) : a.some((x) => host.includes(x)) };
  };
  const inc = test(rule.includes, 'includes');
  const exc = test(rule.excludes, 'excludes');
  return inc.caps !== false && inc.arches !== false && exc.caps !== true && exc.arches !== true;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function readable(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}
