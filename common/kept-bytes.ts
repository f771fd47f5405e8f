// Bytes kept for long, packed into chunks of their own. A small Buffer made
// by Buffer.from, allocUnsafe or concat is a view of an 8 KiB pool slab, and
// a bytes field decoded by protobufjs is a view of the message it came in:
// either keeps the whole slab alive for as long as it lives. A heap snapshot
// of a master with 50,000 running tasks (docs/scale/README.md, "Memory per
// task") found 21,918 slabs (171 MiB) held by about eight small buffers per
// task (status uuids, the state endpoints' kept texts), mostly around bytes
// that were garbage. What is copied here shares a chunk only with other kept
// bytes, made at about the same time, which tend to be dropped together.

/** Bytes longer than this get an allocation of their own (a chunk would hold only a few). */
const MAX_PACKED = 2048;

export class KeptBytes {
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;

  /** `chunkBytes`: the size of each chunk the copies are packed into. */
  constructor(private readonly chunkBytes = 16 * 1024) {}

  /** A copy of `bytes` (the same bytes, not a view of what they were a view of). */
  copy(bytes: Uint8Array): Buffer {
    const out = this.room(bytes.length);
    out.set(bytes);
    return out;
  }

  /** `s` as UTF-8, written straight into the chunk. */
  text(s: string): Buffer {
    const out = this.room(Buffer.byteLength(s, 'utf8'));
    out.write(s, 'utf8');
    return out;
  }

  /** The parts one after the other (Buffer.concat's bytes). */
  concat(parts: readonly Uint8Array[]): Buffer {
    let length = 0;
    for (const p of parts) length += p.length;
    const out = this.room(length);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private room(length: number): Buffer {
    if (length === 0) return EMPTY;
    if (length > MAX_PACKED) return Buffer.allocUnsafeSlow(length);
    if (this.used + length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
      this.used = 0;
    }
    const out = this.chunk.subarray(this.used, this.used + length);
    this.used += length;
    return out;
  }
}

/** One empty Buffer for every empty bytes field kept (each decoded one has an ArrayBuffer of its own, about 180 bytes). */
export const EMPTY: Buffer = Buffer.alloc(0);
