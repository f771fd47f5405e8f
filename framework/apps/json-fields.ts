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
  add(path: string, error: string): void {
    const found = this.details.find((d) => d.path === path);
    if (found) found.errors.push(error);
    else this.details.push({ path, errors: [error] });
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

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
