// The Mesos containerizer's provisioner: images from a local directory
// (Mesos's --docker_registry=/path; nothing is ever pulled), kept in a store
// under the agent's work_dir (--docker_store_dir), unpacked once per image
// manifest digest and shared by every container of that image.
//
//   <registry>/<repo>:<tag>/        an OCI image layout (setup.sh writes mesos-ts/busybox:latest so)
//   <registry>/<repo>:<tag>.tar     a `docker save` archive (or <repo>.tar), imported once with skopeo
//   <store>/layouts/<name>/         what was imported from archives (OCI layouts)
//   <store>/rootfs/<digest>/        the unpacked root filesystem (umoci raw unpack) and the image's config
//
// Layers are unpacked by umoci, not by hand: it applies whiteouts and opaque
// directories and keeps every path inside the root (securejoin). Before that,
// layer-check.ts reads each layer and refuses an image with an entry that
// would leave the root (umoci would clamp it inside without a word); zstd
// layers, which this umoci refuses, are handed to it decompressed
// (zstd-layers.ts). Each container's root is an overlayfs
// over the cached rootfs (no copy); where the kernel refuses overlay it is a copy.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageConfig } from './bundle.js';
import { checkLayers, LayerRefused } from './layer-check.js';
import { unpackableLayout } from './zstd-layers.js';
import type { RootPool } from './root-pool.js';
import { CommandShell } from './command-shell.js';

const run = promisify(execFile);

export class ImageMissing extends Error {
  override readonly name = 'ImageMissing';
}

export interface ProvisionedImage {
  /** The cached, unpacked root filesystem: the lower layer of each container's root. */
  readonly rootfs: string;
  readonly config: ImageConfig;
  readonly digest: string;
}

/** 'busybox' -> { repo: 'busybox', tag: 'latest' }; a digest reference is refused (the store knows tags). */
export function parseReference(image: string): { repo: string; tag: string } {
  if (!/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(image) || image.includes('..')) {
    throw new ImageMissing(`'${image}' is not an image reference this store takes (repository[:tag], lower case)`);
  }
  const colon = image.lastIndexOf(':');
  return colon > 0 ? { repo: image.slice(0, colon), tag: image.slice(colon + 1) } : { repo: image, tag: 'latest' };
}

export class ImageStore {
  private readonly unpacking = new Map<string, Promise<ProvisionedImage>>();

  constructor(readonly registry: string, readonly store: string) {}

  /** The image unpacked (from the cache when it was before); ImageMissing names the image and where it was looked for. */
  async provision(image: string): Promise<ProvisionedImage> {
    const { repo, tag } = parseReference(image);
    const layout = await this.layoutOf(image, repo, tag);
    const index = readJson(join(layout, 'index.json')) as { manifests?: { digest: string; annotations?: Record<string, string> }[] };
    const manifests = index.manifests ?? [];
    const entry = manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag) ?? (manifests.length === 1 ? manifests[0] : undefined);
    if (!entry) throw new ImageMissing(`image ${image}: the OCI layout ${layout} has no manifest tagged '${tag}'`);
    const digest = entry.digest;
    let pending = this.unpacking.get(digest);
    if (!pending) {
      // A layout holding one image is taken whatever its tag; umoci finds it by the tag it has.
      pending = this.unpack(layout, entry.annotations?.['org.opencontainers.image.ref.name'] ?? tag, digest, image);
      this.unpacking.set(digest, pending);
      pending.catch(() => this.unpacking.delete(digest));
    }
    return pending;
  }

  private async layoutOf(image: string, repo: string, tag: string): Promise<string> {
    const dir = join(this.registry, `${repo}:${tag}`);
    if (existsSync(join(dir, 'oci-layout'))) return dir;
    const archive = [join(this.registry, `${repo}:${tag}.tar`), join(this.registry, `${repo}.tar`)].find((p) => existsSync(p));
    if (!archive) {
      throw new ImageMissing(`image ${image} is not in the local image registry ${this.registry} (looked for the OCI layout ${dir} and ${repo}:${tag}.tar / ${repo}.tar; nothing is pulled)`);
    }
    const imported = join(this.store, 'layouts', `${repo.replaceAll('/', '_')}_${tag}_${Math.floor(statSync(archive).mtimeMs)}`);
    if (existsSync(join(imported, 'oci-layout'))) return imported;
    await mkdir(join(this.store, 'layouts'), { recursive: true });
    const temp = `${imported}.${process.pid}.tmp`;
    // skopeo cuts docker-archive:PATH at its first ':', which <repo>:<tag>.tar holds: it reads a link named without one.
    const link = `${temp}.tar`;
    try {
      await rm(link, { force: true });
      await symlink(archive, link);
      await run('skopeo', ['copy', '--quiet', `docker-archive:${link}`, `oci:${temp}:${tag}`]);
      await rename(temp, imported);
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      throw new ImageMissing(`image ${image}: cannot import ${archive} (not a docker save archive?): ${stderrOf(err)}`);
    } finally {
      await rm(link, { force: true });
    }
    return imported;
  }

  private async unpack(layout: string, tag: string, digest: string, image: string): Promise<ProvisionedImage> {
    const dir = join(this.store, 'rootfs', digest.replace(':', '-'));
    const rootfs = join(dir, 'rootfs');
    const configPath = join(dir, 'image-config.json');
    if (existsSync(configPath)) return { rootfs, config: readJson(configPath) as ImageConfig, digest };
    await mkdir(join(this.store, 'rootfs'), { recursive: true });
    const temp = `${dir}.${process.pid}.tmp`;
    await rm(temp, { recursive: true, force: true });
    try {
      await mkdir(temp, { recursive: true });
      await checkLayers(layerBlobs(layout, digest), image);
      // zstd layers are given to umoci decompressed, from a layout of their own (zstd-layers.ts).
      const scratch = join(temp, 'plain-layers');
      const source = await unpackableLayout(layout, digest, tag, scratch, blobPath);
      // Run from inside the layout: umoci splits --image at the first ':', which layout paths hold (<repo>:<tag>/).
      await run('umoci', ['raw', 'unpack', '--image', `.:${source.tag}`, join(temp, 'rootfs')], { cwd: source.layout });
      await rm(scratch, { recursive: true, force: true });
      await writeFile(join(temp, 'image-config.json'), JSON.stringify(imageConfig(layout, digest)));
      await rename(temp, dir).catch(async (err) => {
        // Another agent sharing the store unpacked it meanwhile.
        if (!existsSync(configPath)) throw err;
        await rm(temp, { recursive: true, force: true });
      });
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      if (err instanceof LayerRefused) throw err;
      throw new Error(`cannot unpack image ${image} from ${layout}: ${stderrOf(err)}`, { cause: err });
    }
    return { rootfs, config: readJson(configPath) as ImageConfig, digest };
  }
}

/** The files of the image's layers, base layer first. */
function layerBlobs(layout: string, manifestDigest: string): string[] {
  const manifest = readJson(blobPath(layout, manifestDigest)) as { layers?: { digest: string }[] };
  return (manifest.layers ?? []).map((l) => blobPath(layout, l.digest));
}

function blobPath(layout: string, digest: string): string {
  if (!/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest)) throw new LayerRefused(`the OCI layout ${layout} names a blob '${digest}' that is not a digest`);
  return join(layout, 'blobs', ...digest.split(':'));
}

/** The parts of the image's config a task inherits. */
function imageConfig(layout: string, manifestDigest: string): ImageConfig {
  const blob = (digest: string) => readJson(blobPath(layout, digest));
  const manifest = blob(manifestDigest) as { config?: { digest: string } };
  if (!manifest.config) return {};
  const config = (blob(manifest.config.digest) as { config?: { Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string } }).config ?? {};
  return {
    ...(config.Entrypoint ? { entrypoint: config.Entrypoint } : {}),
    ...(config.Cmd ? { cmd: config.Cmd } : {}),
    ...(config.Env ? { env: config.Env } : {}),
    ...(config.WorkingDir ? { workingDir: config.WorkingDir } : {}),
  };
}

/**
 * Each container's writable root: an overlayfs (the image's rootfs below, the container's
 * own upper layer) where the kernel offers it, else a copy. `overlay` is decided once per agent.
 */
export class RootfsMaker {
  private overlay: boolean | null = null;

  /** `pool`: roots mounted ahead of launches (root-pool.ts), used once overlay is known to work here. */
  constructor(private readonly log: (line: string) => void, private readonly pool?: RootPool, private readonly shell: CommandShell = CommandShell.shared()) {}

  /**
   * Makes the container's root in `bundle` (created here: a pooled root's folder becomes the bundle, or the pool's
   * shell mounts one there), or, once overlay is known to work here and there is no pool, returns the mount
   * command for whoever starts the container to run (the supervisor: one process spawn fewer on each launch).
   */
  async make(lower: string, bundle: string): Promise<readonly string[]> {
    if (this.overlay === true && this.pool) {
      if (this.pool.take(lower, bundle)) return [];
      // None ready (a burst took them): mounted now by the pool's shell, while the launch waits for its turn to
      // start, not by the supervisor inside that turn, where each mount lengthened a start that 15 others and
      // the rest of the burst waited for (bench:launch, burst of 100: all RUNNING 0.4-0.5 s sooner).
      await this.pool.mountInto(lower, bundle);
      return [];
    }
    const target = join(bundle, 'rootfs');
    // Synchronous: three small local calls, cheaper than three round trips through the thread pool.
    mkdirSync(target, { recursive: true });
    if (this.overlay !== false) {
      mkdirSync(join(bundle, 'upper'), { recursive: true });
      mkdirSync(join(bundle, 'work'), { recursive: true });
      const mount = ['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${bundle}/upper,workdir=${bundle}/work`, target];
      if (this.overlay === true) return mount;
      try {
        await run(mount[0]!, mount.slice(1));
        this.overlay = true;
        this.pool?.fill(lower);
        return [];
      } catch (err) {
        this.overlay = false;
        this.log(`overlayfs is not available here (${stderrOf(err)}): every container's root filesystem is a copy of its image (slower launches)`);
      }
    }
    await run('cp', ['-a', `${lower}/.`, target]);
    return [];
  }

  /** Unmounts and removes the pooled roots an earlier run of the agent left. */
  async clearStale(): Promise<void> {
    await this.pool?.clearStale();
  }

  /** Unmounts and removes every pooled root; none is prepared any more. */
  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Unmounts the container's root if it is a mount; a root that is not mounted is fine. */
  async release(bundle: string): Promise<void> {
    const target = join(bundle, 'rootfs');
    if (!(await isMountPoint(target))) return;
    // Through the command shell: a Node spawn stops the event loop (command-shell.ts).
    if ((await this.shell.run(['umount', target])).code === 0) return;
    const lazy = await this.shell.run(['umount', '-l', target]);
    if (lazy.code !== 0) throw new Error(`cannot unmount ${target}: ${lazy.stderr.trim()}`);
  }
}

async function isMountPoint(path: string): Promise<boolean> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mountinfo.split('\n').some((line) => line.split(' ')[4] === path);
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n').at(-1) ?? '';
}
