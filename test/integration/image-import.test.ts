// `mesos-ts image import FILE` (cli/image.ts, agent/driver/oci/image-import.ts)
// with real archives made from the task image setup.sh builds: a docker save
// archive (skopeo) and an OCI archive (tar of the layout) land in a fresh
// registry directory where the mesos containerizer's image store provisions
// them; a file that is not a tar, a tar that is not an image and an archive
// that names no image are refused with a clear message and write nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImageStore } from '../../agent/driver/oci/image-store.js';
import { OCI_REGISTRY } from '../harness/oci.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-image-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const layout = join(OCI_REGISTRY, 'mesos-ts', 'busybox:latest');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/mesos-ts.js', 'image', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('mesos-ts image import', () => {
  const registry = join(dir, 'registry');

  it('puts a docker save archive in the registry under the name it carries, where the image store provisions it', async () => {
    const archive = join(dir, 'busybox-docker.tar');
    // skopeo splits oci:PATH:REF at a colon, which the layout's folder name holds: run it from inside.
    await run('skopeo', ['copy', '--quiet', 'oci:.:latest', `docker-archive:${archive}:test/imported:v1`], { cwd: layout });
    const out = await cli('import', archive, `--docker_registry=${registry}`);
    expect(out).toMatchObject({ code: 0, stdout: `imported test/imported:v1 (docker-archive) as ${join(registry, 'test', 'imported:v1.tar')}\n` });
    const image = await new ImageStore(registry, join(dir, 'store')).provision('test/imported:v1');
    expect(existsSync(join(image.rootfs, 'bin', 'busybox'))).toBe(true);
  });

  it('unpacks an OCI archive into a layout named by --name', async () => {
    const archive = join(dir, 'busybox-oci.tar');
    await run('tar', ['-cf', archive, '-C', layout, '.']);
    const out = await cli('import', archive, '--name=test/oci-imported:v2', `--docker_registry=${registry}`);
    expect(out.code).toBe(0);
    expect(existsSync(join(registry, 'test', 'oci-imported:v2', 'oci-layout'))).toBe(true);
    const image = await new ImageStore(registry, join(dir, 'store')).provision('test/oci-imported:v2');
    expect(existsSync(join(image.rootfs, 'bin', 'busybox'))).toBe(true);
  });

  it('refuses a file that is not a tar, a tar that is not an image, an archive naming no image and a bad name, writing nothing', async () => {
    const empty = join(dir, 'empty-registry');
    const notTar = join(dir, 'not-a-tar.tar');
    writeFileSync(notTar, 'hello, not a tar\n');
    const notImage = join(dir, 'not-an-image.tar');
    writeFileSync(join(dir, 'readme.txt'), 'hi\n');
    await run('tar', ['-cf', notImage, '-C', dir, 'readme.txt']);
    const unnamed = join(dir, 'busybox-oci.tar'); // the OCI archive above: its index names no image

    const cases: [string[], RegExp][] = [
      [[notTar], /mesos-ts image: '.*not-a-tar\.tar' is not a tar archive/],
      [[notImage], /is a tar archive but not an image: no manifest\.json \(docker save\) nor oci-layout and index\.json/],
      [[unnamed], /names no image: give it one with --name REPO\[:TAG\]/],
      [[unnamed, '--name=Bad/Name'], /--name: 'Bad\/Name' is not an image reference/],
      [[join(dir, 'missing.tar')], /image archive '.*missing\.tar' is not a file/],
    ];
    for (const [args, message] of cases) {
      const out = await cli('import', ...args, `--docker_registry=${empty}`);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toMatch(message);
    }
    expect(existsSync(empty) ? readdirSync(empty) : []).toEqual([]);
  });
});
