// Resource arithmetic shared by master, agent, SDK and simulator.
//
// A Resources value is an immutable bag of named resources, each either a
// scalar (cpus, mem, disk, gpus), a set of port-like ranges (ports) or a
// set of strings. Every resource also carries the role it is reserved for
// ('*' = unreserved), so `cpus(*)` and `cpus(analytics)` never mix.
//
// Text syntax is Mesos's: `cpus:2;mem:1024;ports:[31000-32000];disks:{a,b}`,
// with an optional role: `cpus(analytics):4`. Scalars are kept in fixed
// point with three decimals, as Mesos does, so 0.1 + 0.2 is 0.3.
import type { ResourceIn, ResourceOut } from '../proto/index.js';
import { InvalidArgument } from './errors.js';

export type Range = readonly [begin: number, end: number];

export type ResourceValue =
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'ranges'; readonly ranges: readonly Range[] }
  | { readonly kind: 'set'; readonly items: ReadonlySet<string> };

export interface ResourceEntry {
  readonly name: string;
  readonly role: string;
  readonly value: ResourceValue;
}

export const UNRESERVED = '*';

const SCALE = 1000;
const roundScalar = (v: number): number => Math.round(v * SCALE) / SCALE;
const keyOf = (name: string, role: string): string => `${name}(${role})`;

/**
 * An immutable bag of named resources (scalars such as cpus and mem, ranges
 * such as ports, sets), each reserved for a role (`*` = unreserved). Parse
 * Mesos's text form with {@link Resources.parse}; every operation returns a
 * new value. Scalars keep three decimals, as Mesos does, so 0.1 + 0.2 is 0.3.
 */
export class Resources {
  /** No resources at all. */
  static readonly EMPTY = new Resources(new Map());

  private constructor(private readonly entries: ReadonlyMap<string, ResourceEntry>) {}

  /** Parses Mesos resource text; throws InvalidArgument naming the bad token. */
  static parse(text: string, defaultRole = UNRESERVED): Resources {
    const map = new Map<string, ResourceEntry>();
    const trimmed = text.trim();
    if (trimmed === '') return Resources.EMPTY;
    for (const rawToken of trimmed.split(';')) {
      const token = rawToken.trim();
      if (token === '') continue;
      const entry = parseToken(token, defaultRole);
      const key = keyOf(entry.name, entry.role);
      const prev = map.get(key);
      map.set(key, prev ? { ...entry, value: addValues(prev.value, entry.value, entry.name) } : entry);
    }
    return new Resources(dropEmpty(map));
  }

  /** Scalars only, e.g. `Resources.scalars({ cpus: 0.5, mem: 128 })`, all for one role. */
  static scalars(values: Record<string, number>, role = UNRESERVED): Resources {
    const map = new Map<string, ResourceEntry>();
    for (const [name, value] of Object.entries(values)) {
      map.set(keyOf(name, role), { name, role, value: { kind: 'scalar', value: roundScalar(value) } });
    }
    return new Resources(dropEmpty(map));
  }

  /** From entries as {@link Resources.list} returns them; entries with the same name and role add up. */
  static fromEntries(list: Iterable<ResourceEntry>): Resources {
    let out = Resources.EMPTY;
    for (const e of list) out = out.add(new Resources(new Map([[keyOf(e.name, e.role), e]])));
    return out;
  }

  /** From protobuf `Resource` messages; throws InvalidArgument on malformed ones. */
  static fromProto(list: readonly (ResourceIn | ResourceOut)[] | null | undefined, field = 'resources'): Resources {
    const entries: ResourceEntry[] = [];
    (list ?? []).forEach((r, i) => entries.push(entryFromProto(r, `${field}[${i}]`)));
    return Resources.fromEntries(entries);
  }

  /** As protobuf `Resource` messages, e.g. for a TaskInfo's resources. */
  toProto(): ResourceIn[] {
    return [...this.entries.values()].map((e) => entryToProto(e));
  }

  /** Every resource, one entry per name and role. */
  list(): readonly ResourceEntry[] {
    return [...this.entries.values()];
  }

  /** True when nothing is left (an entry that reaches zero is dropped). */
  isEmpty(): boolean {
    return this.entries.size === 0;
  }

  /** Sum of a scalar over all roles (or one role). */
  scalar(name: string, role?: string): number {
    let total = 0;
    for (const e of this.entries.values()) {
      if (e.name === name && (role === undefined || e.role === role) && e.value.kind === 'scalar') total += e.value.value;
    }
    return roundScalar(total);
  }

  /** Ranges of a resource over all roles (or one role), sorted and coalesced. */
  ranges(name: string, role?: string): readonly Range[] {
    let out: Range[] = [];
    for (const e of this.entries.values()) {
      if (e.name === name && (role === undefined || e.role === role) && e.value.kind === 'ranges') out = unionRanges(out, e.value.ranges);
    }
    return out;
  }

  /** The resource names present (cpus, mem, ports, ...), each once. */
  names(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.name))];
  }

  /** The roles the resources are reserved for (`*` for unreserved), each once. */
  roles(): string[] {
    return [...new Set([...this.entries.values()].map((e) => e.role))];
  }

  /** Only the entries `pred` keeps. */
  filter(pred: (e: ResourceEntry) => boolean): Resources {
    return new Resources(new Map([...this.entries].filter(([, e]) => pred(e))));
  }

  /** The same resources with every entry moved to `role`. */
  withRole(role: string): Resources {
    return Resources.fromEntries([...this.entries.values()].map((e) => ({ ...e, role })));
  }

  /** The sum of many, in one pass (adding them one by one copies the running total each time). */
  static sum(list: Iterable<Resources>): Resources {
    // One running total per name and role, each entry made once at the end: spreading a new entry at
    // every step made most of a sum's cost (the state endpoints sum every task's resources per build).
    const running = new Map<string, RunningEntry>();
    for (const r of list) {
      for (const [key, e] of r.entries) {
        const run = running.get(key);
        if (run) run.add(e);
        else running.set(key, new RunningEntry(e));
      }
    }
    if (running.size === 0) return Resources.EMPTY;
    const map = new Map<string, ResourceEntry>();
    for (const [key, run] of running) map.set(key, run.entry());
    return new Resources(dropEmpty(map));
  }

  /** The entries, without copying them (list() copies). */
  each(): IterableIterator<ResourceEntry> {
    return this.entries.values();
  }

  /** this + other: scalars add, ranges and sets merge, per name and role. */
  add(other: Resources): Resources {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const map = new Map(this.entries);
    for (const [key, e] of other.entries) {
      const prev = map.get(key);
      map.set(key, prev ? { ...prev, value: addValues(prev.value, e.value, e.name) } : e);
    }
    return new Resources(dropEmpty(map));
  }

  /** this - other. Throws if `other` is not contained in `this`. */
  subtract(other: Resources): Resources {
    if (!this.contains(other)) {
      throw new InvalidArgument(`cannot subtract ${other.toString()} from ${this.toString()}: not contained`);
    }
    const map = new Map(this.entries);
    for (const [key, e] of other.entries) {
      const prev = map.get(key);
      if (prev) map.set(key, { ...prev, value: subtractValues(prev.value, e.value) });
    }
    return new Resources(dropEmpty(map));
  }

  /** True when `other` fits in this: every scalar at least as large, every range and set item present, role by role. */
  contains(other: Resources): boolean {
    for (const [key, e] of other.entries) {
      const mine = this.entries.get(key);
      if (!mine) return false;
      if (!containsValue(mine.value, e.value)) return false;
    }
    return true;
  }

  /** The same resources, role by role. */
  equals(other: Resources): boolean {
    return this.contains(other) && other.contains(this);
  }

  /** Mesos text form, e.g. `cpus:2;mem:1024;ports:[31000-31010]`. */
  toString(): string {
    return [...this.entries.values()]
      .sort((a, b) => a.name.localeCompare(b.name) || a.role.localeCompare(b.role))
      .map((e) => `${e.name}${e.role === UNRESERVED ? '' : `(${e.role})`}:${formatValue(e.value)}`)
      .join(';');
  }

  /** Mesos's JSON form, as in /state: scalars as numbers, the rest in text form, e.g. `{ "cpus": 2, "ports": "[31000-31010]" }`. */
  toJSON(): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    for (const e of this.entries.values()) {
      const name = e.role === UNRESERVED ? e.name : `${e.name}(${e.role})`;
      out[name] = e.value.kind === 'scalar' ? e.value.value : formatValue(e.value);
    }
    return out;
  }
}

// ---- ranges --------------------------------------------------------------

export function unionRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const all = [...a, ...b].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [begin, end] of all) {
    const last = out[out.length - 1];
    if (last && begin <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([begin, end]);
  }
  return out;
}

export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  let out: Range[] = [...a];
  for (const [sb, se] of b) {
    const next: Range[] = [];
    for (const [ab, ae] of out) {
      if (se < ab || sb > ae) next.push([ab, ae]);
      else {
        if (sb > ab) next.push([ab, sb - 1]);
        if (se < ae) next.push([se + 1, ae]);
      }
    }
    out = next;
  }
  return out;
}

export function rangesContain(outer: readonly Range[], inner: readonly Range[]): boolean {
  return inner.every(([b, e]) => outer.some(([ob, oe]) => ob <= b && e <= oe));
}

export function rangesSize(ranges: readonly Range[]): number {
  return ranges.reduce((n, [b, e]) => n + (e - b + 1), 0);
}

/** The first `count` values of `ranges`, as ranges (used to pick ports). */
export function takeFromRanges(ranges: readonly Range[], count: number): Range[] {
  const out: Range[] = [];
  let left = count;
  for (const [b, e] of ranges) {
    if (left <= 0) break;
    const n = Math.min(left, e - b + 1);
    out.push([b, b + n - 1]);
    left -= n;
  }
  return left > 0 ? [] : out;
}

export function rangeValues(ranges: readonly Range[]): number[] {
  const out: number[] = [];
  for (const [b, e] of ranges) for (let v = b; v <= e; v++) out.push(v);
  return out;
}

// ---- values --------------------------------------------------------------

function addValues(a: ResourceValue, b: ResourceValue, name: string): ResourceValue {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', value: roundScalar(a.value + b.value) };
  if (a.kind === 'ranges' && b.kind === 'ranges') return { kind: 'ranges', ranges: unionRanges(a.ranges, b.ranges) };
  if (a.kind === 'set' && b.kind === 'set') return { kind: 'set', items: new Set([...a.items, ...b.items]) };
  throw new InvalidArgument(`resource '${name}' is given both as ${a.kind} and as ${b.kind}`);
}

/**
 * A sum of entries of one name and role, added in place: the same values as
 * adding them one by one with addValues (scalars rounded at each step,
 * ranges merged, set items in the order first seen), with no object per step.
 */
class RunningEntry {
  private added = false;
  private scalar = 0;
  private ranges: readonly Range[] = [];
  private items: Set<string> | null = null;

  constructor(private readonly first: ResourceEntry) {}

  add(e: ResourceEntry): void {
    const a = this.first.value;
    const b = e.value;
    if (a.kind !== b.kind) throw new InvalidArgument(`resource '${e.name}' is given both as ${a.kind} and as ${b.kind}`);
    if (!this.added) {
      this.added = true;
      if (a.kind === 'scalar') this.scalar = a.value;
      else if (a.kind === 'ranges') this.ranges = a.ranges;
      else this.items = new Set(a.items);
    }
    if (b.kind === 'scalar') this.scalar = roundScalar(this.scalar + b.value);
    else if (b.kind === 'ranges') this.ranges = unionRanges(this.ranges, b.ranges);
    else for (const item of b.items) this.items!.add(item);
  }

  /** The first entry itself when nothing was added to it. */
  entry(): ResourceEntry {
    if (!this.added) return this.first;
    const kind = this.first.value.kind;
    const value: ResourceValue =
      kind === 'scalar' ? { kind, value: this.scalar } : kind === 'ranges' ? { kind, ranges: this.ranges } : { kind, items: this.items! };
    return { ...this.first, value };
  }
}

function subtractValues(a: ResourceValue, b: ResourceValue): ResourceValue {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', value: roundScalar(a.value - b.value) };
  if (a.kind === 'ranges' && b.kind === 'ranges') return { kind: 'ranges', ranges: subtractRanges(a.ranges, b.ranges) };
  if (a.kind === 'set' && b.kind === 'set') return { kind: 'set', items: new Set([...a.items].filter((i) => !b.items.has(i))) };
  return a;
}

function containsValue(a: ResourceValue, b: ResourceValue): boolean {
  if (a.kind === 'scalar' && b.kind === 'scalar') return roundScalar(a.value - b.value) >= 0;
  if (a.kind === 'ranges' && b.kind === 'ranges') return rangesContain(a.ranges, b.ranges);
  if (a.kind === 'set' && b.kind === 'set') return [...b.items].every((i) => a.items.has(i));
  return false;
}

function isEmptyValue(v: ResourceValue): boolean {
  if (v.kind === 'scalar') return v.value <= 0;
  if (v.kind === 'ranges') return v.ranges.length === 0;
  return v.items.size === 0;
}

function dropEmpty(map: Map<string, ResourceEntry>): Map<string, ResourceEntry> {
  for (const [key, e] of map) if (isEmptyValue(e.value)) map.delete(key);
  return map;
}

function formatValue(v: ResourceValue): string {
  if (v.kind === 'scalar') return String(v.value);
  if (v.kind === 'ranges') return `[${v.ranges.map(([b, e]) => `${b}-${e}`).join(',')}]`;
  return `{${[...v.items].join(',')}}`;
}

// ---- parsing -------------------------------------------------------------

const TOKEN = /^([A-Za-z_][A-Za-z0-9_.-]*)(?:\(([^()]*)\))?\s*:\s*(.+)$/;

function parseToken(token: string, defaultRole: string): ResourceEntry {
  const m = TOKEN.exec(token);
  if (!m) throw new InvalidArgument(`bad resource '${token}': expected NAME:VALUE or NAME(ROLE):VALUE`);
  const [, name = '', roleText, valueText = ''] = m;
  const role = roleText === undefined ? defaultRole : roleText.trim();
  if (role === '') throw new InvalidArgument(`bad resource '${token}': empty role`);
  return { name, role, value: parseValue(valueText.trim(), token) };
}

function parseValue(text: string, token: string): ResourceValue {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new InvalidArgument(`bad resource '${token}': ranges must end with ']'`);
    const body = text.slice(1, -1).trim();
    const ranges: Range[] = [];
    for (const part of body === '' ? [] : body.split(',')) {
      const rm = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
      if (!rm) throw new InvalidArgument(`bad resource '${token}': range '${part.trim()}' is not BEGIN-END`);
      const begin = Number(rm[1]);
      const end = Number(rm[2]);
      if (begin > end) throw new InvalidArgument(`bad resource '${token}': range '${part.trim()}' ends before it begins`);
      ranges.push([begin, end]);
    }
    return { kind: 'ranges', ranges: unionRanges([], ranges) };
  }
  if (text.startsWith('{')) {
    if (!text.endsWith('}')) throw new InvalidArgument(`bad resource '${token}': sets must end with '}'`);
    const items = text.slice(1, -1).split(',').map((s) => s.trim()).filter((s) => s !== '');
    return { kind: 'set', items: new Set(items) };
  }
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw new InvalidArgument(`bad resource '${token}': '${text}' is not a number`);
  if (value < 0) throw new InvalidArgument(`bad resource '${token}': negative value`);
  return { kind: 'scalar', value: roundScalar(value) };
}

// ---- protobuf ------------------------------------------------------------

function entryFromProto(r: ResourceIn | ResourceOut, where: string): ResourceEntry {
  const name = r.name ?? '';
  if (name === '') throw new InvalidArgument(`${where}.name is missing`);
  const reservations = r.reservations ?? [];
  const last = reservations[reservations.length - 1];
  const role = last?.role || (r.role && r.role !== '' ? r.role : UNRESERVED);
  const type = r.type ?? 'SCALAR';
  if (type === 'SCALAR' || type === 0) {
    const value = Number(r.scalar?.value);
    if (!r.scalar || !Number.isFinite(value) || value < 0) {
      throw new InvalidArgument(`${where} ('${name}'): scalar value ${JSON.stringify(r.scalar?.value)} is not a non-negative number`);
    }
    return { name, role, value: { kind: 'scalar', value: roundScalar(value) } };
  }
  if (type === 'RANGES' || type === 1) {
    const ranges: Range[] = [];
    for (const rg of r.ranges?.range ?? []) {
      const begin = Number(rg.begin);
      const end = Number(rg.end);
      if (!Number.isInteger(begin) || !Number.isInteger(end) || begin > end || begin < 0) {
        throw new InvalidArgument(`${where} ('${name}'): bad range ${JSON.stringify(rg)}`);
      }
      ranges.push([begin, end]);
    }
    return { name, role, value: { kind: 'ranges', ranges: unionRanges([], ranges) } };
  }
  if (type === 'SET' || type === 2) {
    return { name, role, value: { kind: 'set', items: new Set((r.set?.item ?? []).map(String)) } };
  }
  throw new InvalidArgument(`${where} ('${name}'): unsupported resource type ${String(type)}`);
}

function entryToProto(e: ResourceEntry): ResourceIn {
  const reservations = e.role === UNRESERVED ? [] : [{ type: 'STATIC' as const, role: e.role }];
  switch (e.value.kind) {
    case 'scalar':
      return { name: e.name, type: 'SCALAR', scalar: { value: e.value.value }, reservations };
    case 'ranges':
      return { name: e.name, type: 'RANGES', ranges: { range: e.value.ranges.map(([begin, end]) => ({ begin, end })) }, reservations };
    case 'set':
      return { name: e.name, type: 'SET', set: { item: [...e.value.items] }, reservations };
  }
}

/**
 * Running sums of a few scalars over many Resources, making no Resources on
 * the way: a total over thousands of tasks or agents, rebuilt often (the
 * master's metrics), would otherwise allocate one Resources per step.
 */
export class ScalarTotals {
  private readonly sums: number[];
  /** One value's scalars by name (over its roles), reused from one add to the next. */
  private readonly part: number[];

  constructor(private readonly names: readonly string[]) {
    this.sums = names.map(() => 0);
    this.part = names.map(() => 0);
  }

  /** Adds what scalar(name) gives for each name, reading the entries once rather than once per name. */
  add(resources: Resources): this {
    const part = this.part;
    part.fill(0);
    for (const e of resources.each()) {
      if (e.value.kind !== 'scalar') continue;
      const i = this.names.indexOf(e.name);
      if (i >= 0) part[i]! += e.value.value;
    }
    for (let i = 0; i < part.length; i++) this.sums[i]! += roundScalar(part[i]!);
    return this;
  }

  /** The sum of `name` (one of the names given), rounded as Resources rounds scalars. */
  get(name: string): number {
    const i = this.names.indexOf(name);
    return i < 0 ? 0 : roundScalar(this.sums[i]!);
  }
}
