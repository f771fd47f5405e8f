// Protobuf messages as Mesos writes and reads them in JSON (stout's
// protobuf.hpp): proto field names, enums by name, bytes in base64, 64-bit
// integers as JSON numbers, unset fields left out.
//
// Reading follows Mesos's parser: unknown fields are ignored, null means
// unset, numbers may come as numeric strings ("Infinity" too, for doubles),
// booleans as "true"/"false", a single value stands for a one-element
// repeated field, and an unknown enum name leaves the field unset. Any
// other mismatch is an InvalidArgument naming the field and what it got.
import type { Enum, Field, Type } from 'protobufjs';
import { InvalidArgument, errorMessage } from '../../common/errors.js';

/** Deeper JSON is refused rather than walked (no message of ours nests this deep). */
const MAX_DEPTH = 64;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/**
 * A plain object `type.fromObject()` takes, from JSON as Mesos reads it.
 * `path` names the message in errors, e.g. `Call.subscribe.framework_info.name`.
 */
export function fromMesosJson(type: Type, json: unknown, path: string = type.name): Record<string, unknown> {
  return readMessage(type, json, path, 0);
}

/**
 * A request body in JSON as the protobuf bytes of `type` (a Call), read as
 * Mesos reads it; `checkFirst` sees the parsed JSON before it is converted,
 * so a misspelt `type` is named rather than left unset. Throws
 * InvalidArgument with Mesos's wording when the body is no such message.
 */
export function jsonBodyToProtobuf(type: Type, body: Buffer, checkFirst: (json: unknown) => void = () => {}): Buffer {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidArgument(`Failed to parse body into JSON: ${errorMessage(err)}`);
  }
  checkFirst(json);
  try {
    const bytes = type.encode(type.fromObject(fromMesosJson(type, json, type.name))).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (err) {
    throw new InvalidArgument(`Failed to convert JSON into ${type.name} protobuf: ${errorMessage(err)}`, { cause: err });
  }
}

/** A message as a response body: Mesos's JSON, or protobuf bytes. */
export function encodeMessage(type: Type, message: object, encoding: 'json' | 'protobuf'): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify(toMesosJson(type, message)), 'utf8');
  const bytes = type.encode(type.fromObject(message)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The `type` member of a parsed JSON body, if it has one. */
export const jsonType = (json: unknown): unknown => (typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined);

/** What Mesos writes for a message: proto field names, enum names, base64 bytes, numbers; unset and empty repeated fields left out. */
export function toMesosJson(type: Type, message: object): Record<string, unknown> {
  return type.toObject(type.fromObject(message), { enums: String, longs: Number, bytes: String, defaults: false });
}

function readMessage(type: Type, json: unknown, path: string, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new InvalidArgument(`${path}: nested deeper than ${MAX_DEPTH} levels`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidArgument(`${path}: expected a JSON object, got ${describe(json)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(json)) {
    // Unknown fields are ignored and null means unset, as Mesos reads them.
    if (!Object.hasOwn(type.fields, name) || value === null) continue;
    const field = type.fields[name]!;
    const fieldPath = `${path}.${name}`;
    if (field.map) {
      // A map is a JSON object: each key with one value of the map's value type (Mesos writes QuotaConfig's so).
      if (typeof value !== 'object' || Array.isArray(value)) throw mismatch(fieldPath, 'a JSON object (a map)', value);
      const entries = Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, readValue(field, item, `${fieldPath}.${key}`, depth)] as const);
      out[name] = Object.fromEntries(entries.filter(([, v]) => v !== undefined));
      continue;
    }
    if (field.repeated) {
      const items = Array.isArray(value) ? value : [value];
      const read = items.map((item, i) => readValue(field, item, Array.isArray(value) ? `${fieldPath}[${i}]` : fieldPath, depth));
      out[name] = read.filter((v) => v !== undefined);
      continue;
    }
    if (Array.isArray(value)) throw new InvalidArgument(`${fieldPath}: expected one value, got a JSON array`);
    const read = readValue(field, value, fieldPath, depth);
    if (read !== undefined) out[name] = read;
  }
  return out;
}

/** One value of a field; undefined leaves it unset (null, an unknown enum name). */
function readValue(field: Field, value: unknown, path: string, depth: number): unknown {
  if (value === null) return undefined;
  field.resolve();
  const resolved = field.resolvedType;
  if (resolved && 'fields' in resolved) return readMessage(resolved as Type, value, path, depth + 1);
  if (resolved) return readEnum(resolved as Enum, value, path);
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw mismatch(path, 'a string', value);
      return value;
    case 'bytes':
      if (typeof value !== 'string') throw mismatch(path, 'base64-encoded bytes', value);
      if (!BASE64.test(value)) throw new InvalidArgument(`${path}: '${clip(value)}' is not valid base64`);
      return Buffer.from(value, 'base64');
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw mismatch(path, 'a boolean', value);
    case 'double':
    case 'float':
      if (value === 'Infinity' || value === '-Infinity') return Number(value);
      return readNumber(value, path);
    default: // The integer types.
      return readNumber(value, path);
  }
}

function readEnum(type: Enum, value: unknown, path: string): string | undefined {
  if (typeof value !== 'string') throw mismatch(path, `a ${type.name} name`, value);
  return Object.hasOwn(type.values, value) ? value : undefined;
}

function readNumber(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && JSON_NUMBER.test(value.trim())) return Number(value.trim());
  throw mismatch(path, 'a number', value);
}

function mismatch(path: string, expected: string, got: unknown): InvalidArgument {
  return new InvalidArgument(`${path}: expected ${expected}, got ${describe(got)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a JSON array';
  switch (typeof value) {
    case 'object':
      return 'a JSON object';
    case 'string':
      return `the string '${clip(value)}'`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    default:
      return typeof value;
  }
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s);
