// Checks JSON against a shape fixture (test/fixtures/mesos-shapes/, see its
// README): every required key present with the right type, no key the shape
// does not name, no null. Returns every mismatch, each with its JSON path.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Shape = string | Shape[] | { [key: string]: Shape };

export function loadShape(name: string): Shape {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/mesos-shapes/${name}.json`, import.meta.url)), 'utf8')) as Shape;
}

/** `extensions`: JSON paths of keys we add on purpose (e.g. '$.work_dir'), allowed though the shape lacks them. */
export function shapeErrors(value: unknown, shape: Shape, path = '$', extensions: ReadonlySet<string> = new Set()): string[] {
  if (value === null) return [`${path}: null`];
  if (typeof shape === 'string') {
    const types = shape.split('|');
    const actual = Array.isArray(value) ? 'array' : typeof value;
    return types.includes(actual) ? [] : [`${path}: expected ${shape}, got ${actual} ${JSON.stringify(value)?.slice(0, 80)}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected an array, got ${typeof value}`];
    return value.flatMap((v, i) => shapeErrors(v, shape[0]!, `${path}[${i}]`, extensions));
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object, got ${Array.isArray(value) ? 'array' : typeof value}`];
  const errors: string[] = [];
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(shape)) {
    if (key === '*' || key.startsWith('?')) continue;
    if (!(key in record)) errors.push(`${path}.${key}: missing`);
  }
  for (const [key, v] of Object.entries(record)) {
    const sub = shape[key] ?? shape[`?${key}`] ?? shape['*'];
    if (sub === undefined) {
      if (!extensions.has(`${path}.${key}`)) errors.push(`${path}.${key}: not a key of Mesos's shape`);
      continue;
    }
    errors.push(...shapeErrors(v, sub, `${path}.${key}`, extensions));
  }
  return errors;
}
