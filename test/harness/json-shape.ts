// Checks a JSON document against a recorded shape (test/fixtures/mesos-shapes/):
// which keys an object has, which of them may be absent, and the JSON type of
// every value. A shape is one of
//
//   "string" | "number" | "boolean"
//   { "object": { key: shape }, "optional"?: [key], "extends"?: name }   exactly these keys
//   { "map": shape }            any keys, each value of that shape (resources, flags, ...)
//   { "array": shape }          every element of that shape
//   { "oneOf": [shape] }        one of these
//   { "ref": name }             a shape from definitions.json
//   { "protobuf": "mesos.v1.X" } a message Mesos writes with JSON::Protobuf: an object, not modelled key by key
//
// `null` is never accepted: Mesos leaves an unset field out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Shape =
  | 'string' | 'number' | 'boolean'
  | { readonly object: Readonly<Record<string, Shape>>; readonly optional?: readonly string[]; readonly extends?: string }
  | { readonly map: Shape }
  | { readonly array: Shape }
  | { readonly oneOf: readonly Shape[] }
  | { readonly ref: string }
  | { readonly protobuf: string };

export type Definitions = Readonly<Record<string, Shape>>;

export const SHAPES_DIR = new URL('../fixtures/mesos-shapes/', import.meta.url).pathname;

export function loadShape(file: string): { source: string; shape: Shape; definitions: Definitions } {
  const { source, shape } = JSON.parse(readFileSync(join(SHAPES_DIR, file), 'utf8')) as { source: string; shape: Shape };
  const { definitions } = JSON.parse(readFileSync(join(SHAPES_DIR, 'definitions.json'), 'utf8')) as { definitions: Definitions };
  return { source, shape, definitions };
}

/** Every way `value` differs from `shape`, one line each, naming the path (`$.slaves[0].pid`). */
export function shapeErrors(value: unknown, shape: Shape, definitions: Definitions, path = '$'): string[] {
  if (value === null) return [`${path} is null`];
  if (value === undefined) return [`${path} is undefined`];
  if (typeof shape === 'string') return typeOf(value) === shape ? [] : [`${path} is ${typeOf(value)}, expected ${shape}`];
  if ('ref' in shape) {
    const target = definitions[shape.ref];
    if (!target) throw new Error(`no shape named '${shape.ref}' in definitions.json`);
    return shapeErrors(value, target, definitions, path);
  }
  if ('oneOf' in shape) {
    const all = shape.oneOf.map((s) => shapeErrors(value, s, definitions, path));
    return all.some((e) => e.length === 0) ? [] : [`${path} matches none of its shapes: ${all.map((e) => e.join('; ')).join(' | ')}`];
  }
  if ('array' in shape) {
    if (!Array.isArray(value)) return [`${path} is ${typeOf(value)}, expected array`];
    return value.flatMap((v, i) => shapeErrors(v, shape.array, definitions, `${path}[${i}]`));
  }
  if (typeOf(value) !== 'object') return [`${path} is ${typeOf(value)}, expected object`];
  const record = value as Record<string, unknown>;
  if ('protobuf' in shape) return nulls(record, path);
  if ('map' in shape) return Object.entries(record).flatMap(([k, v]) => shapeErrors(v, shape.map, definitions, `${path}.${k}`));
  const { keys, optional } = flatten(shape, definitions);
  const errors: string[] = [];
  for (const [key, sub] of Object.entries(keys)) {
    if (!(key in record)) {
      if (!optional.has(key)) errors.push(`${path}.${key} is missing`);
      continue;
    }
    errors.push(...shapeErrors(record[key], sub, definitions, `${path}.${key}`));
  }
  for (const key of Object.keys(record)) if (!(key in keys)) errors.push(`${path}.${key} is not a key Mesos writes here`);
  return errors;
}

/** An object shape with the keys of the shapes it extends. */
function flatten(shape: { readonly object: Readonly<Record<string, Shape>>; readonly optional?: readonly string[]; readonly extends?: string }, definitions: Definitions) {
  const keys: Record<string, Shape> = {};
  const optional = new Set<string>();
  if (shape.extends) {
    const base = definitions[shape.extends];
    if (!base || typeof base === 'string' || !('object' in base)) throw new Error(`'${shape.extends}' is no object shape in definitions.json`);
    const inherited = flatten(base, definitions);
    Object.assign(keys, inherited.keys);
    inherited.optional.forEach((k) => optional.add(k));
  }
  Object.assign(keys, shape.object);
  (shape.optional ?? []).forEach((k) => optional.add(k));
  return { keys, optional };
}

function nulls(value: unknown, path: string): string[] {
  if (value === null) return [`${path} is null`];
  if (Array.isArray(value)) return value.flatMap((v, i) => nulls(v, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value as object).flatMap(([k, v]) => nulls(v, `${path}.${k}`));
  return [];
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

/** Every object key found anywhere in `value`: a test checks that the keys its cluster should show were written at least once. */
export function keysSeen(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysSeen(v, into));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) keysSeen(v, into.add(k));
  return into;
}
