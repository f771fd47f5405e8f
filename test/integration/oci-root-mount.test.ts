// Container roots of the mesos containerizer when no pooled root is ready (a
// burst took them all): the pool's mounting shell mounts each in its bundle
// while the launch waits for its turn to start, so no mount command is left
// for the supervisor. Real overlay mounts over the image setup.sh builds:
// several at once each get a root of their own, a mount that fails says why
// and leaves nothing mounted, and nothing is left once they are released.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, RootfsMaker } from '../../agent/driver/oci/image-store.js';
import { RootPool } from '../../agent/driver/oci/root-pool.js';
import { mountsUnder } from '../../common/hosts/engine-leftovers.js';
import { OCI_REGISTRY } from '../harness/oci.js';

const IMAGE = 'mesos-ts/busybox:latest';
const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-oci-root-mount-'));
const logged: string[] = [];
// No roots kept ready (size 0): every launch after the first finds none.
const pool = new RootPool(join(dir, 'pool'), 0, (line) => logged.push(line));
const maker = new RootfsMaker((line) => logged.push(line), pool);

afterAll(async () => {
  for (const b of ['b0', 'b1', 'b2', 'b3', 'b4']) await maker.release(join(dir, b)).catch(() => {});
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('container roots mounted by the pool when none is ready', () => {
  it('mounts roots of their own at once, leaves the supervisor nothing to mount, and nothing once released', async () => {
    const image = await new ImageStore(OCI_REGISTRY, join(dir, 'store')).provision(IMAGE);
    // The first root finds out whether overlay works here (mounted by the agent itself).
    const [first, ...bundles] = ['b0', 'b1', 'b2', 'b3'].map((b) => join(dir, b)) as [string, ...string[]];
    expect(await maker.make(image.rootfs, first)).toEqual([]);
    expect(await Promise.all(bundles.map((b) => maker.make(image.rootfs, b)))).toEqual([[], [], []]);
    const mounted = mountsUnder(dir);
    for (const b of [first, ...bundles]) expect(mounted).toContain(join(b, 'rootfs'));
    expect(existsSync(join(bundles[0]!, 'rootfs', 'bin', 'sh'))).toBe(true);
    // Each its own upper layer: what one container writes the others do not see.
    writeFileSync(join(bundles[0]!, 'rootfs', 'written-by-b1'), 'x');
    expect(existsSync(join(bundles[1]!, 'rootfs', 'written-by-b1'))).toBe(false);
    expect(existsSync(join(image.rootfs, 'written-by-b1'))).toBe(false);
    for (const b of [first, ...bundles]) await maker.release(b);
    expect(mountsUnder(dir)).toEqual([]);
  });

  // After the first test: overlay is then known to work here, so the pool's shell is asked.
  it('says why a root could not be mounted, naming the image root, and leaves nothing mounted', async () => {
    const missing = join(dir, 'no-such-image-root');
    await expect(maker.make(missing, join(dir, 'b4'))).rejects.toThrow(`cannot mount the container's root over ${missing}`);
    expect(mountsUnder(dir)).toEqual([]);
  });
});
