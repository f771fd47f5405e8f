// --attributes, parsed as Mesos parses them: `name:value` pairs separated by
// ';' (or newlines). A value is ranges (`[1-10,20-30]`), a scalar (a
// non-negative number) or text; sets are not allowed, as in Mesos.
import type { AttributeIn } from '../proto/index.js';
import { InvalidArgument } from '../common/errors.js';
import { unionRanges, type Range } from '../common/resources.js';

const NUMBER = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `rack:r1;zone:a;level:3;slots:[1-4]` -> Attribute messages; throws InvalidArgument naming the bad token. */
export function parseAttributes(text: string): AttributeIn[] {
  const out: AttributeIn[] = [];
  for (const token of text.split(/[;\n]/)) {
    if (token.trim() === '') continue;
    const colon = token.indexOf(':');
    const name = colon < 0 ? '' : token.slice(0, colon).trim();
    const value = colon < 0 ? '' : token.slice(colon + 1).replaceAll(' ', '');
    if (!name || !value) throw new InvalidArgument(`--attributes: invalid attribute key:value pair '${token.trim()}'`);
    out.push(parseAttribute(name, value));
  }
  return out;
}

function parseAttribute(name: string, value: string): AttributeIn {
  const bad = (why: string) => new InvalidArgument(`--attributes: bad value '${value}' of attribute '${name}': ${why}`);
  if (value.startsWith('{')) throw bad('sets are not supported as attribute values');
  if (value.startsWith('[')) {
    if (!value.endsWith(']')) throw bad('mismatched brackets');
    return { name, type: 'RANGES', ranges: { range: parseRanges(value, bad).map(([begin, end]) => ({ begin, end })) } };
  }
  if (/[[\]{}]/.test(value)) throw bad('unexpected bracket');
  const n = Number(value);
  if (NUMBER.test(value) && Number.isFinite(n)) return { name, type: 'SCALAR', scalar: { value: n } };
  return { name, type: 'TEXT', text: { value } };
}

function parseRanges(value: string, bad: (why: string) => Error): Range[] {
  const parts = value.slice(1, -1).split(',').filter((p) => p !== '');
  let ranges: Range[] = [];
  for (const part of parts) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (!m) throw bad(`expecting ranges like [1-10,20-30], got '${part}'`);
    const begin = Number(m[1]);
    const end = Number(m[2]);
    if (begin > end) throw bad(`range '${part}' ends before it begins`);
    ranges = unionRanges(ranges, [[begin, end]]);
  }
  if (ranges.length === 0) throw bad('expecting one or more ranges');
  return ranges;
}
