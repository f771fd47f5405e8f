// /master/state's bytes spliced from kept parts. JSON.stringify writes the
// whole 1.5 MiB answer (N=1,000 agents, 2,500 tasks) again on every build,
// though most of it is tasks' and agents' JSON that did not change. Objects
// handed to keep() are never changed once made (kept task and agent JSON,
// writers.ts): their text is written once, as UTF-8, on the first build that
// needs it, and copied on the next ones. The parts are copied once into the
// answer (Buffer.concat): joining them as strings cost several times what
// JSON.stringify of the whole took (as state-json.ts found for GET_STATE).
// The result is JSON.stringify's, byte for byte (test/unit/json-text.test.ts).

import { KeptBytes } from '../../common/kept-bytes.js';

const COMMA = Buffer.from(',');

/** Bytes gathered in order: short texts run together, kept bytes as they are. */
class Parts {
  readonly list: Buffer[] = [];
  private pending = '';

  text(s: string): void {
    this.pending += s;
  }

  bytes(b: Buffer): void {
    if (this.pending === ',') this.list.push(COMMA);
    else if (this.pending !== '') this.list.push(Buffer.from(this.pending));
    this.pending = '';
    this.list.push(b);
  }

  done(): Buffer {
    if (this.pending !== '') this.list.push(Buffer.from(this.pending));
    return Buffer.concat(this.list);
  }
}

/** How a kept object's text is made when it is first needed (JSON.stringify's, byte for byte). */
type TextOf = () => string;

export class JsonTexts {
  /** Kept objects: their JSON as UTF-8, or null (or how to write it) until first written. */
  private readonly texts = new WeakMap<object, Buffer | TextOf | null>();
  /** Where the texts are written: made in pool slabs, they kept the slabs alive (common/kept-bytes.ts). */
  private readonly bytes = new KeptBytes();

  /** `value` will not change from now on: its text may be kept. */
  keep<T extends object>(value: T): T {
    if (!this.texts.has(value)) this.texts.set(value, null);
    return value;
  }

  /** As keep(), with its text made by `text` (from parts the caller kept) rather than JSON.stringify of the whole. */
  keepWritten<T extends object>(value: T, text: TextOf): T {
    if (!this.texts.has(value)) this.texts.set(value, text);
    return value;
  }

  /** Buffer.from(JSON.stringify(value)), reusing the texts of kept objects. */
  encode(value: object): Buffer {
    const parts = new Parts();
    if (!this.write(value, parts)) parts.text('null');
    return parts.done();
  }

  /** Writes a value's text; false where JSON.stringify leaves it out (undefined, functions, symbols). */
  private write(value: unknown, parts: Parts): boolean {
    if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      const text = JSON.stringify(value) as string | undefined;
      if (text === undefined) return false;
      parts.text(text);
      return true;
    }
    const kept = this.texts.get(value);
    if (kept !== undefined) {
      parts.bytes(kept === null || typeof kept === 'function' ? this.written(value, kept) : kept);
      return true;
    }
    if (Array.isArray(value)) {
      parts.text('[');
      value.forEach((v, i) => {
        if (i > 0) parts.text(',');
        if (!this.write(v, parts)) parts.text('null');
      });
      parts.text(']');
      return true;
    }
    parts.text('{');
    let first = true;
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.text(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      this.write(v, parts);
    }
    parts.text('}');
    return true;
  }

  private written(value: object, text: TextOf | null): Buffer {
    const bytes = this.bytes.text(text ? text() : JSON.stringify(value));
    this.texts.set(value, bytes);
    return bytes;
  }
}
