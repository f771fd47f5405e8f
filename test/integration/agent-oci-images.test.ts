// The mesos containerizer's image store (agent/driver/oci/image-store.ts)
// against hostile images, with real umoci: a layer whose paths climb out of
// the root (`../`) or go through an absolute symlink must not write anything
// outside the image's rootfs. The images are OCI layouts written here, byte
// by byte (uncompressed tar layers).
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ImageStore } from '../../agent/driver/oci/image-store.js';

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-oci-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Entry = { readonly name: string; readonly type: 'file' | 'dir' | 'symlink'; readonly data?: string; readonly target?: string };

/** A ustar archive of `entries`, as the layer's bytes. */
function tar(entries: readonly Entry[]): Buffer {
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
    put(e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0', 156, 1);
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

/** An OCI image layout at <registry>/<repo>:<tag> with these layers. */
function layout(registry: string, repo: string, tag: string, layers: readonly Buffer[]): void {
  const root = join(registry, `${repo}:${tag}`);
  mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
  const blob = (bytes: Buffer) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(root, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const layerDescs = layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...blob(l) }));
  const config = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.digest) },
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

describe('the image store against hostile layers', () => {
  it('keeps a layer that climbs out with ../ or writes through an absolute symlink inside the rootfs', async () => {
    const registry = join(dir, 'registry');
    const store = join(dir, 'store');
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    layout(registry, 'evil/img', 'latest', [
      tar([{ name: 'etc/', type: 'dir' }, { name: 'etc/link', type: 'symlink', target: outside }]),
      tar([
        { name: 'etc/link/pwned', type: 'file', data: 'pwn\n' },
        { name: '../../escaped', type: 'file', data: 'pwn\n' },
        { name: 'ok', type: 'file', data: 'fine\n' },
      ]),
    ]);
    const provisioned = await new ImageStore(registry, store).provision('evil/img:latest');
    // Nothing landed outside the image's rootfs: umoci resolves every path inside it (securejoin).
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(store, 'escaped'))).toBe(false);
    expect(existsSync(join(dirname(store), 'escaped'))).toBe(false);
    expect(existsSync(join(store, 'rootfs', 'escaped'))).toBe(false);
    // '../../escaped' is clamped to the root; the symlink to an absolute path is followed inside the root.
    expect(existsSync(join(provisioned.rootfs, 'escaped'))).toBe(true);
    expect(existsSync(join(provisioned.rootfs, outside, 'pwned'))).toBe(true);
    expect(existsSync(join(provisioned.rootfs, 'ok'))).toBe(true);
  });

  it('unpacks a well-formed layout once and shares it', async () => {
    const registry = join(dir, 'registry-ok');
    layout(registry, 'plain/img', 'v1', [tar([{ name: 'hello', type: 'file', data: 'hi\n' }])]);
    const images = new ImageStore(registry, join(dir, 'store-ok'));
    const [a, b] = await Promise.all([images.provision('plain/img:v1'), images.provision('plain/img:v1')]);
    expect(a.rootfs).toBe(b.rootfs);
    expect(existsSync(join(a.rootfs, 'hello'))).toBe(true);
    expect(a.config).toEqual({ cmd: ['/bin/sh'] });
    expect(readdirSync(join(dir, 'store-ok', 'rootfs'))).toHaveLength(1);
  });

  it('names the image and the registry when the tag is missing, and refuses a reference that is not one', async () => {
    const images = new ImageStore(join(dir, 'registry-ok'), join(dir, 'store-ok'));
    await expect(images.provision('plain/img:v2')).rejects.toThrow(`image plain/img:v2 is not in the local image registry ${join(dir, 'registry-ok')}`);
    await expect(images.provision('../etc:latest')).rejects.toThrow("'../etc:latest' is not an image reference");
    await expect(images.provision('UPPER/case')).rejects.toThrow('is not an image reference');
  });
});
