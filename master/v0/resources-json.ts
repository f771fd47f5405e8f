// Resources as Mesos's v0 JSON writes them (src/common/http.cpp, json(Resources)
// and the `_full` fields of /master/slaves): pure functions, no master state.
//
//   summary: { "cpus": 1.5, "gpus": 0, "mem": 512, "disk": 0, "ports": "[31000-31005, 31010-31010]" }
//            cpus, gpus, mem and disk always present; each name summed over roles; ranges and
//            sets as Mesos's stringify writes them ("[b-e, b-e]", "{a, b}")
//   full:    [ { "name", "type", "scalar" | "ranges" | "set", "role", "reservations"? } ]
//            one Resource message per (name, role), as convertResourceFormat(ENDPOINT) leaves it
import { rangesContain, UNRESERVED, unionRanges, type Range, type ResourceEntry, type Resources } from '../../common/resources.js';

export type ResourcesJson = Record<string, number | string>;

/** Mesos's stringify(Value::Ranges): `[31000-31005, 32000-32000]`. */
export function rangesText(ranges: readonly Range[]): string {
  return `[${ranges.map(([b, e]) => `${b}-${e}`).join(', ')}]`;
}

/** Mesos's stringify(Value::Set): `{a, b}`. */
export function setText(items: Iterable<string>): string {
  return `{${[...items].join(', ')}}`;
}

/** Scalars rounded as Mesos keeps them (three decimals), so 0.1 + 0.2 is written 0.3. */
const round = (v: number): number => Math.round(v * 1000) / 1000;

/** json(Resources): every name summed over its roles; cpus, gpus, mem and disk always written. */
export function resourcesJson(resources: Resources): ResourcesJson {
  return resourcesJsonOf([resources]);
}

/** json(Resources) of the sum of `list`, summed as it is written (no Resources value is made for the sum). */
export function resourcesJsonOf(list: readonly Resources[]): ResourcesJson {
  return new ResourcesJsonSum().add(list).json();
}

/**
 * json(Resources) of `first`, of `then`, and of both in a row (what
 * resourcesJsonOf([...first, ...then]) writes), each list read once: a
 * framework's used, offered and total resources (/master/state sums them
 * for every framework on every build).
 */
export function resourcesJsonOfBoth(first: readonly Resources[], then: readonly Resources[]): { first: ResourcesJson; then: ResourcesJson; both: ResourcesJson } {
  const sum = new ResourcesJsonSum().add(first);
  const json = sum.json();
  return { first: json, then: resourcesJsonOf(then), both: sum.add(then).json() };
}

/** A running json(Resources) sum: scalars added unrounded and rounded when written, ranges merged, set items in the order first seen. */
class ResourcesJsonSum {
  private readonly scalars = new Map<string, number>([['cpus', 0], ['gpus', 0], ['mem', 0], ['disk', 0]]);
  private readonly ranges = new Map<string, Range[]>();
  private readonly sets = new Map<string, Set<string>>();

  add(list: readonly Resources[]): this {
    for (const resources of list) {
      for (const e of resources.each()) {
        const v = e.value;
        if (v.kind === 'scalar') this.scalars.set(e.name, (this.scalars.get(e.name) ?? 0) + v.value);
        else if (v.kind === 'ranges') this.addRanges(e.name, v.ranges);
        else this.sets.set(e.name, new Set([...(this.sets.get(e.name) ?? []), ...v.items]));
      }
    }
    return this;
  }

  /** Ranges already held are skipped: agents offer the same ports, and merging them again cost most of a sum over offers. */
  private addRanges(name: string, ranges: readonly Range[]): void {
    const held = this.ranges.get(name);
    // `held` came out of unionRanges (sorted and merged), so what it contains would leave it as it is.
    if (held === undefined || !rangesContain(held, ranges)) this.ranges.set(name, unionRanges(held ?? [], ranges));
  }

  json(): ResourcesJson {
    const out: ResourcesJson = {};
    for (const [name, value] of this.scalars) out[name] = round(value);
    for (const [name, value] of this.ranges) out[name] = rangesText(value);
    for (const [name, value] of this.sets) out[name] = setText(value);
    return out;
  }
}

/** Reserved resources by role (`reserved_resources`), each as json(Resources). */
export function reservedJson(resources: Resources): Record<string, ResourcesJson> {
  const out: Record<string, ResourcesJson> = {};
  for (const role of resources.roles().filter((r) => r !== UNRESERVED).sort()) out[role] = resourcesJson(resources.filter((e) => e.role === role));
  return out;
}

/** Reserved resources by role, each as the full Resource messages (`reserved_resources_full`). */
export function reservedFullJson(resources: Resources): Record<string, ResourceFullJson[]> {
  const out: Record<string, ResourceFullJson[]> = {};
  for (const role of resources.roles().filter((r) => r !== UNRESERVED).sort()) out[role] = resourcesFullJson(resources.filter((e) => e.role === role));
  return out;
}

export interface ResourceFullJson {
  readonly name: string;
  readonly type: 'SCALAR' | 'RANGES' | 'SET';
  readonly scalar?: { readonly value: number };
  readonly ranges?: { readonly range: readonly { readonly begin: number; readonly end: number }[] };
  readonly set?: { readonly item: readonly string[] };
  readonly role: string;
  readonly reservations?: readonly { readonly type: 'STATIC'; readonly role: string }[];
}

/** The Resource messages, as JSON::Protobuf writes them after convertResourceFormat(ENDPOINT): `role` always, `reservations` when reserved. */
export function resourcesFullJson(resources: Resources): ResourceFullJson[] {
  return resources.list().map(fullEntry);
}

function fullEntry(e: ResourceEntry): ResourceFullJson {
  const reserved = e.role === UNRESERVED ? {} : { reservations: [{ type: 'STATIC' as const, role: e.role }] };
  const v = e.value;
  if (v.kind === 'scalar') return { name: e.name, type: 'SCALAR', scalar: { value: v.value }, role: e.role, ...reserved };
  if (v.kind === 'ranges') return { name: e.name, type: 'RANGES', ranges: { range: v.ranges.map(([begin, end]) => ({ begin, end })) }, role: e.role, ...reserved };
  return { name: e.name, type: 'SET', set: { item: [...v.items] }, role: e.role, ...reserved };
}

/** ResourceQuantities::fromResources (the roles endpoint): per name, scalars summed, ranges and sets by how many values they hold. */
export function quantitiesJson(resources: Resources): Record<string, number> {
  return quantitiesJsonOf([resources]);
}

/** ResourceQuantities of the sum of `list`. */
export function quantitiesJsonOf(list: readonly Resources[]): Record<string, number> {
  return addQuantities({}, list);
}

/** ResourceQuantities of `first`, of `then`, and of both in a row (quantitiesJsonOf([...first, ...then])), each list read once. */
export function quantitiesJsonOfBoth(first: readonly Resources[], then: readonly Resources[]): { first: Record<string, number>; then: Record<string, number>; both: Record<string, number> } {
  const json = quantitiesJsonOf(first);
  return { first: json, then: quantitiesJsonOf(then), both: addQuantities({ ...json }, then) };
}

/** Adds to `out` in place, rounding at each step as Mesos's ResourceQuantities does. */
function addQuantities(out: Record<string, number>, list: readonly Resources[]): Record<string, number> {
  for (const resources of list) {
    for (const e of resources.each()) {
      const v = e.value;
      const amount = v.kind === 'scalar' ? v.value : v.kind === 'ranges' ? v.ranges.reduce((n, [b, en]) => n + en - b + 1, 0) : v.items.size;
      out[e.name] = round((out[e.name] ?? 0) + amount);
    }
  }
  return out;
}
