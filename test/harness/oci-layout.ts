// Image layouts written byte by byte, for tests of the mesos containerizer's
// image store against hostile images: ustar layers from a list of entries and
// an OCI layout (index, manifest, config) holding them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export type Entry = { readonly name: string; readonly type: 'file' | 'dir' | 'symlink' | 'hardlink'; readonly data?: string; readonly target?: string };

/** A ustar archive of `entries`, as the layer's bytes. */
export function tar(entries: readonly Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = Buffer.alloc(512);
    const put = (text: string, offset: number, length: number) => header.write(text, offset, length, 'utf8');
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0';
    put(e.name, 0, 100);
    put(octal(e.type === 'dir' ? 0o755 : 0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(e.type === 'file' ? data.length : 0, 12), 124, 12);
    put(octal(0, 12), 136, 12);
    put({ dir: '5', symlink: '2', hardlink: '1', file: '0' }[e.type], 156, 1);
    if (e.target) put(e.target, 157, 100);
    put('ustar\0', 257, 6);
    put('00', 263, 2);
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    blocks.push(header);
    if (e.type === 'file') blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A layer's compression, from its first bytes: gzip, zstd, or none. */
function compression(layer: Buffer): '+gzip' | '+zstd' | '' {
  if (layer[0] === 0x1f && layer[1] === 0x8b) return '+gzip';
  return layer.length >= 4 && layer.readUInt32LE(0) === 0xfd2fb528 ? '+zstd' : '';
}

/** The layer's tar (its diff_id is the digest of that), decompressed as its compression says. */
function uncompressed(layer: Buffer): Buffer {
  const kind = compression(layer);
  if (kind === '+gzip') return gunzipSync(layer);
  if (kind !== '+zstd') return layer;
  try {
    return execFileSync('zstd', ['-dcq'], { input: layer, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return layer; // A stream cut short on purpose: its diff_id is never reached.
  }
}

/** A layer compressed by the zstd command, as a registry would store a +zstd layer. */
export function zstd(layer: Buffer): Buffer {
  return execFileSync('zstd', ['-cq'], { input: layer, maxBuffer: 256 * 1024 * 1024 });
}

/** An OCI image layout at <registry>/<repo>:<tag> with these layers (plain, gzip or zstd). */
export function layout(registry: string, repo: string, tag: string, layers: readonly Buffer[]): void {
  const root = join(registry, `${repo}:${tag}`);
  mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
  const blob = (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(root, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const layerDescs = layers.map((l) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${compression(l)}`, ...blob(l) }));
  const config = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${createHash('sha256').update(uncompressed(l)).digest('hex')}`) },
  })));
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerDescs,
  })));
  writeFileSync(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(root, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
}

