// JSON with line numbers: a small recursive-descent parser that returns the
// value JSON.parse would, plus the line where each value starts, keyed by
// its path (`frameworks[2].tasks.demand`). The workload validator names
// the file's line beside the field; JSON.parse cannot tell it.
import { InvalidArgument } from '../common/errors.js';

export interface JsonSource {
  readonly value: unknown;
  /** Line (1-based) of the value at `path`, or of its nearest ancestor that exists. */
  lineOf(path: string): number | undefined;
}

/** The path of `key` under `parent`, as the validator's messages spell it. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

export function parseJsonSource(text: string): JsonSource {
  const lines = new Map<string, number>();
  const parser = new Parser(text, lines);
  const value = parser.document();
  return {
    value,
    lineOf(path: string): number | undefined {
      for (let p = path; ; p = parentOf(p)) {
        const line = lines.get(p);
        if (line !== undefined || p === '') return line;
      }
    },
  };
}

/** `a.b[2]` → `a.b` → `a` → ``. */
function parentOf(path: string): string {
  const m = /^(.*?)(?:\.[A-Za-z_][A-Za-z0-9_]*|\[(?:\d+|"(?:[^"\\]|\\.)*")\])$/.exec(path);
  return m ? m[1]! : '';
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

class Parser {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly lines: Map<string, number>,
  ) {}

  document(): unknown {
    const value = this.value('');
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('unexpected text after the end of the JSON value');
    return value;
  }

  private value(path: string): unknown {
    this.skipSpace();
    this.lines.set(path, this.line);
    const c = this.text[this.pos];
    if (c === '{') return this.object(path);
    if (c === '[') return this.array(path);
    if (c === '"') return this.string();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m) {
      this.pos += m[0].length;
      return Number(m[0]);
    }
    return this.fail(c === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(c)}`);
  }

  private object(path: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++; // {
    if (this.peekSkippingSpace() === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail('expected a "quoted" field name');
      const key = this.string();
      this.expect(':');
      // defineProperty: a "__proto__" key is data, as with JSON.parse.
      Object.defineProperty(out, key, { value: this.value(childPath(path, key)), enumerable: true, writable: true, configurable: true });
      if (this.endOf('}')) return out;
    }
  }

  private array(path: string): unknown[] {
    const out: unknown[] = [];
    this.pos++; // [
    if (this.peekSkippingSpace() === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(childPath(path, out.length)));
      if (this.endOf(']')) return out;
    }
  }

  private string(): string {
    STRING.lastIndex = this.pos;
    const m = STRING.exec(this.text);
    if (!m) this.fail('bad string (unterminated, a raw control character or a bad escape)');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  /** After a member: ',' continues (false), `close` ends (true). */
  private endOf(close: '}' | ']'): boolean {
    const c = this.peekSkippingSpace();
    if (c !== close && c !== ',') this.fail(c === undefined ? `unexpected end of input, expected ',' or '${close}'` : `expected ',' or '${close}'`);
    this.pos++;
    return c === close;
  }

  private expect(c: string): void {
    if (this.peekSkippingSpace() !== c) this.fail(`expected '${c}'`);
    this.pos++;
  }

  private peekSkippingSpace(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === '\n') this.line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
      this.pos++;
    }
  }

  private fail(message: string, at = this.pos): never {
    const column = at - this.text.lastIndexOf('\n', at - 1);
    throw new InvalidArgument(`line ${this.line}, column ${column}: ${message}`);
  }
}
