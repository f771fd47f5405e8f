// Checking untrusted JSON field by field: a Collector gathers Marathon's
// 422 details (`{ path, errors }`), one entry per bad field, so a definition
// is answered with every problem at once. Pure helpers shared by the app
// definition's parsers.

/** One entry of Marathon's 422 answer. */
export interface FieldError {
  readonly path: string;
  readonly errors: string[];
}

export class Collector {
  readonly details: FieldError[] = [];
  // By path: a definition with thousands of bad entries is still answered in linear time.
  private readonly byPath = new Map<string, FieldError>();
  add(path: string, error: string): void {
    const found = this.byPath.get(path);
    if (found) return void found.errors.push(error);
    const entry = { path, errors: [error] };
    this.byPath.set(path, entry);
    this.details.push(entry);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const SHOWN_CHARS = 200;

/**
 * A value as JSON in an error message, cut short: a huge or deeply nested
 * value (JSON.stringify would overflow the stack on one) is shown by its
 * first entries, a few levels deep.
 */
export function show(v: unknown): string {
  const text = preview(v, 4);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

function preview(v: unknown, depth: number): string {
  const FIRST = 10;
  if (Array.isArray(v)) {
    if (depth === 0) return v.length === 0 ? '[]' : '[…]';
    const items = v.slice(0, FIRST).map((x) => preview(x, depth - 1));
    return `[${items.join(',')}${v.length > FIRST ? ',…' : ''}]`;
  }
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (depth === 0) return keys.length === 0 ? '{}' : '{…}';
    const items = keys.slice(0, FIRST).filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${preview(v[k], depth - 1)}`);
    return `{${items.join(',')}${keys.length > FIRST ? ',…' : ''}}`;
  }
  return JSON.stringify(v) ?? String(v);
}

export function num(c: Collector, json: Record<string, unknown>, field: string, path: string, def: number, opts: { min?: number; max?: number; integer?: boolean }): number {
  const v = json[field];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    c.add(path, `expected a number, got ${show(v)}`);
    return def;
  }
  if (opts.integer && !Number.isInteger(v)) c.add(path, `expected a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) c.add(path, `got ${v}, expected ${opts.min} or more`);
  if (opts.max !== undefined && v > opts.max) c.add(path, `got ${v}, expected ${opts.max} or less`);
  return v;
}

export function stringMap(c: Collector, v: unknown, path: string): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) {
    c.add(path, `expected an object of strings, got ${show(v)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value === 'string') out[k] = value;
    else c.add(`${path}/${k}`, `expected a string, got ${show(value)}${isObject(value) && 'secret' in value ? ' (secrets are not supported)' : ''}`);
  }
  return out;
}

export function knownFields(c: Collector, json: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(json)) if (!allowed.includes(k)) c.add(`${path}/${k}`, 'unknown field');
}
