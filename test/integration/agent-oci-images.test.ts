// The mesos containerizer's image store (agent/driver/oci/image-store.ts)
// against hostile images, with real umoci: a layer whose paths climb out of
// the root (`../`, a hard link's target) or go through a symlink is refused
// before anything is unpacked, naming the image, the layer and the entry; a
// well-formed image with absolute symlinks and whiteouts still unpacks. The
// images are OCI layouts written here, byte by byte.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../agent/driver/oci/image-store.js';
import { layout, tar, zstd } from '../harness/oci-layout.js';

const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-oci-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the image store against hostile layers', () => {
  const outside = join(dir, 'outside');
  mkdirSync(outside, { recursive: true });
  const refused = async (repo: string, layers: readonly Buffer[], message: string) => {
    const registry = join(dir, `registry-${repo.replace('/', '-')}`);
    const store = join(dir, `store-${repo.replace('/', '-')}`);
    layout(registry, repo, 'latest', layers);
    await expect(new ImageStore(registry, store).provision(`${repo}:latest`)).rejects.toThrow(message);
    // Nothing unpacked, nothing outside: the store holds no rootfs and no temporary folder.
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(store, 'rootfs')) ? readdirSync(join(store, 'rootfs')) : []).toEqual([]);
  };

  it('refuses a layer entry that climbs out of the root with ../, naming the image, the layer and the entry', async () => {
    await refused('evil/dots', [tar([{ name: 'ok', type: 'file', data: 'fine\n' }, { name: 'a/../../escaped', type: 'file', data: 'pwn\n' }])],
      "image evil/dots:latest: layer 1 of 1: entry 'a/../../escaped' climbs out of the root");
  });

  it('refuses an entry written through an absolute symlink of an earlier layer', async () => {
    await refused('evil/link', [
      tar([{ name: 'etc/', type: 'dir' }, { name: 'etc/link', type: 'symlink', target: outside }]),
      tar([{ name: 'etc/link/pwned', type: 'file', data: 'pwn\n' }]),
    ], "image evil/link:latest: layer 2 of 2: entry 'etc/link/pwned' is written through the symlink 'etc/link'");
  });

  it('refuses a hard link to a path outside the root', async () => {
    await refused('evil/hard', [tar([{ name: 'shadow', type: 'hardlink', target: '../../../etc/shadow' }])],
      "image evil/hard:latest: layer 1 of 1: hard link 'shadow' -> '../../../etc/shadow' climbs out of the root");
  });

  it('refuses a layer that is not a tar, naming it', async () => {
    await refused('evil/junk', [Buffer.from('this is not a tar archive at all\n'.repeat(40))], 'image evil/junk:latest: layer 1 of 1 is not a tar archive');
  });

  it('takes absolute symlinks themselves, gzip layers, and a symlink a later layer whites out and makes a directory', async () => {
    const registry = join(dir, 'registry-fine');
    layout(registry, 'fine/img', 'latest', [
      gzipSync(tar([{ name: 'bin/', type: 'dir' }, { name: 'bin/busybox', type: 'file', data: 'x' }, { name: 'bin/sh', type: 'symlink', target: '/bin/busybox' }, { name: 'data', type: 'symlink', target: '/var/data' }])),
      tar([{ name: '.wh.data', type: 'file' }, { name: 'data/', type: 'dir' }, { name: 'data/file', type: 'file', data: 'ok\n' }, { name: 'bin/sh2', type: 'hardlink', target: 'bin/busybox' }]),
    ]);
    const provisioned = await new ImageStore(registry, join(dir, 'store-fine')).provision('fine/img:latest');
    expect(readFileSync(join(provisioned.rootfs, 'data', 'file'), 'utf8')).toBe('ok\n');
    expect(readlinkSync(join(provisioned.rootfs, 'bin', 'sh'))).toBe('/bin/busybox');
  });

  it('reads zstd layers through the zstd command: refuses an escaping entry in one, and one cut short', async () => {
    await refused('evil/zdots', [zstd(tar([{ name: 'ok', type: 'file', data: 'fine\n' }, { name: '../../escaped', type: 'file', data: 'pwn\n' }]))],
      "image evil/zdots:latest: layer 1 of 1: entry '../../escaped' climbs out of the root");
    const whole = zstd(tar(Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, type: 'file' as const, data: `${i}\n`.repeat(200) }))));
    await refused('evil/zcut', [whole.subarray(0, Math.floor(whole.length / 2))], 'image evil/zcut:latest: layer 1 of 1 is not a valid zstd stream');
  });

  it('unpacks zstd layers over a gzip one', async () => {
    const registry = join(dir, 'registry-zstd');
    layout(registry, 'z/img', 'latest', [
      gzipSync(tar([{ name: 'etc/', type: 'dir' }, { name: 'etc/base', type: 'file', data: 'gzip\n' }])),
      zstd(tar([{ name: 'etc/top', type: 'file', data: 'zstd\n' }, { name: 'etc/.wh.base', type: 'file' }])),
    ]);
    const provisioned = await new ImageStore(registry, join(dir, 'store-zstd')).provision('z/img:latest');
    expect(readFileSync(join(provisioned.rootfs, 'etc', 'top'), 'utf8')).toBe('zstd\n');
    expect(existsSync(join(provisioned.rootfs, 'etc', 'base'))).toBe(false);
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
