// Every layer of an image read before it is unpacked: an entry that would
// land outside the container's root is refused with the image and the entry
// named, where umoci would quietly clamp it inside (securejoin) and unpack an
// image nobody built that way. Refused:
//   - a name or a hard link's target that climbs out of the root (`../x`; a
//     leading '/' means the root, as tar and umoci read it);
//   - an entry written through a symlink of an earlier entry or layer (a tar
//     made from a real filesystem never holds one: the symlink would be
//     stored, not followed), whether the link is absolute or relative;
//   - a layer that is not a tar (bad header checksum), or not a valid stream
//     of its compression.
// The layers are streamed (plain, gzip, or zstd through the zstd command:
// Node 20's zlib has no zstd), headers parsed and contents skipped: one pass
// over bytes that umoci reads anyway.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';

export class LayerRefused extends Error {
  override readonly name = 'LayerRefused';
}

/** What the layer scan remembers across layers: the symlinks so far, by normalised path. */
type Symlinks = Set<string>;

/** Refuses (LayerRefused) the first layer of `layers` (blob paths, base layer first) holding an entry that escapes the root. */
export async function checkLayers(layers: readonly string[], image: string): Promise<void> {
  const symlinks: Symlinks = new Set();
  for (const [i, path] of layers.entries()) {
    const where = `image ${image}: layer ${i + 1} of ${layers.length}`;
    await checkLayer(await layerStream(path, where), symlinks, where);
  }
}

async function layerStream(path: string, where: string): Promise<Readable> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    createReadStream(path, { start: 0, end: 3 }).on('data', (c) => chunks.push(c as Buffer)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
  if (head[0] === 0x1f && head[1] === 0x8b) return createReadStream(path).pipe(createGunzip());
  if (head.length === 4 && head.readUInt32LE(0) === ZSTD_MAGIC) return unzstd(path, where);
  return createReadStream(path);
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * A zstd layer as the zstd command decompresses it: its output, ended only
 * once zstd exits 0 (a stream that stops early is refused, not read as the
 * tar's end); destroying it (the check is over) stops zstd.
 */
function unzstd(path: string, where: string): Readable {
  const out = new PassThrough();
  const child = spawn('zstd', ['-dcq', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) => out.destroy(new LayerRefused(`${where} is zstd-compressed and the zstd command cannot run (${err.message}); install Debian's zstd package (scripts/setup.sh does)`)));
  child.on('close', (code, signal) => {
    if (out.destroyed) return;
    if (code === 0) out.end();
    else out.destroy(new LayerRefused(`${where} is not a valid zstd stream: ${stderr.trim() || `zstd ended with ${code ?? signal}`}`));
  });
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return out;
}

/** Reads exact byte counts from a stream, for the 512-byte blocks of a tar. */
class BlockReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private buffered: Buffer = Buffer.alloc(0);
  constructor(stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  /** `n` bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      const next = await this.chunks.next();
      if (next.done) break;
      this.buffered = this.buffered.length === 0 ? next.value : Buffer.concat([this.buffered, next.value]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(out.length);
    return out;
  }
  /** Drops `n` bytes without copying them. */
  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.buffered.length === 0) {
        const next = await this.chunks.next();
        if (next.done) return;
        this.buffered = next.value;
      }
      const dropped = Math.min(n, this.buffered.length);
      this.buffered = this.buffered.subarray(dropped);
      n -= dropped;
    }
  }
}

async function checkLayer(stream: Readable, symlinks: Symlinks, where: string): Promise<void> {
  const reader = new BlockReader(stream);
  // Extended names (pax 'x', GNU 'L'/'K') apply to the next entry only.
  let longName: string | undefined;
  let longLink: string | undefined;
  const createdHere = new Set<string>();
  try {
    for (let index = 0; ; index++) {
      const header = await reader.read(512);
      if (header.length === 0 && index === 0) throw new LayerRefused(`${where} is empty, not a tar archive`);
      if (header.length < 512 || header.every((b) => b === 0)) return;
      if (!checksumOk(header)) throw new LayerRefused(`${where} is not a tar archive (entry ${index + 1} has no valid tar header)`);
      const type = String.fromCharCode(header[156] || 0x30);
      const size = numeric(header.subarray(124, 136));
      const padded = Math.ceil(size / 512) * 512;
      if (type === 'x' || type === 'L' || type === 'K') {
        const data = (await reader.read(padded)).subarray(0, size);
        if (type === 'L') longName = cString(data);
        else if (type === 'K') longLink = cString(data);
        else {
          const pax = paxRecords(data);
          longName = pax.get('path') ?? longName;
          longLink = pax.get('linkpath') ?? longLink;
        }
        continue;
      }
      const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? cString(header.subarray(345, 500)) : '';
      const raw = longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
      const link = longLink ?? cString(header.subarray(157, 257));
      longName = longLink = undefined;
      await reader.skip(type === 'g' || isData(type) ? padded : 0);
      if (type === 'g') continue;
      checkEntry(raw, type, link, symlinks, createdHere, where);
    }
  } finally {
    stream.destroy();
  }
}

function checkEntry(raw: string, type: string, link: string, symlinks: Symlinks, createdHere: Set<string>, where: string): void {
  const path = inside(raw, `${where}: entry '${raw}'`);
  if (path === '') return;
  const through = ancestors(path).find((a) => symlinks.has(a));
  if (through !== undefined) throw new LayerRefused(`${where}: entry '${raw}' is written through the symlink '${through}' (an image's layer never holds that; it could reach outside the root)`);
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dir = path.slice(0, Math.max(0, path.lastIndexOf('/')));
  if (base === '.wh..wh..opq') {
    // Opaque directory: what earlier layers put under it is gone.
    for (const s of [...symlinks]) if (s.startsWith(`${dir}/`) && !createdHere.has(s)) symlinks.delete(s);
    return;
  }
  if (base.startsWith('.wh.')) {
    const gone = `${dir ? `${dir}/` : ''}${base.slice(4)}`;
    for (const s of [...symlinks]) if (s === gone || s.startsWith(`${gone}/`)) symlinks.delete(s);
    return;
  }
  if (type === '1') {
    const target = inside(link, `${where}: hard link '${raw}' -> '${link}'`);
    const via = [...ancestors(target), target].find((a) => symlinks.has(a));
    if (via !== undefined) throw new LayerRefused(`${where}: hard link '${raw}' -> '${link}' goes through the symlink '${via}'; refused, it could reach outside the root`);
  }
  createdHere.add(path);
  if (type === '2') symlinks.add(path);
  else symlinks.delete(path);
}

/** The entry's path relative to the root ('' for the root itself); refuses one that leaves it. A leading '/' is the root, as tar reads it. */
function inside(name: string, what: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new LayerRefused(`${what} climbs out of the root with '..'; refused`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Types whose header is followed by the entry's bytes (regular files, and unknown types, whose size tar honours too). */
function isData(type: string): boolean {
  return !['1', '2', '3', '4', '5', '6'].includes(type);
}

function checksumOk(header: Buffer): boolean {
  const stored = parseInt(cString(header.subarray(148, 156)).trim() || 'x', 8);
  if (Number.isNaN(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored;
}

/** An octal field, or GNU's base-256 form for sizes of 8 GiB and more. */
function numeric(field: Buffer): number {
  if ((field[0]! & 0x80) !== 0) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  return parseInt(cString(field).trim() || '0', 8);
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8');
}

/** pax records: "LEN key=value\n" each. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (space < 0 || !(length > 0)) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return out;
}
