// Container roots prepared ahead of a launch: for each image a launch used,
// a few overlayfs roots (upper, work and the mounted rootfs, the layout
// RootfsMaker gives a bundle) wait under <work_dir>/oci/pool/<run>/<uuid>.
// A launch takes one by renaming its folder to the container's bundle (one
// rename: the mount moves with its folder), so no mount runs on the launch
// path; the pool is refilled in the background, by a long-lived shell (a
// Node spawn would stop the agent's event loop for each mount).
//
// Bounded: `size` roots per image. Emptied (unmounted, removed) by close()
// when the agent stops, and at the next start for what a killed agent left
// (every <run> but the current one).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Reads "lower<TAB>entry" lines; makes the entry's upper, work and rootfs and mounts the overlay; answers ok or the error. */
const MOUNTER = 'set -f; IFS="$(printf \'\\t\')"; while IFS= read -r line; do set -- $line; ' +
  'if err=$(mkdir -p "$2/upper" "$2/work" "$2/rootfs" 2>&1 && mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/rootfs" 2>&1); ' +
  'then echo ok; else echo "failed: $err" | tr "\\n" " "; echo; fi; done';

export class RootPool {
  private readonly ready = new Map<string, string[]>();
  private readonly filling = new Map<string, Promise<void>>();
  private readonly runDir: string;
  private mounter: ChildProcess | null = null;
  private readonly answers: ((line: string) => void)[] = [];
  private closed = false;

  /** `dir`: <work_dir>/oci/pool; `size`: roots kept ready per image (0: no pool). */
  constructor(private readonly dir: string, private readonly size: number, private readonly log: (line: string) => void) {
    this.runDir = join(dir, randomUUID().slice(0, 8));
  }

  /**
   * Moves a prepared root over `lower` to `bundle` (which must not exist yet) and starts a refill;
   * false when none is ready (the caller mounts one itself).
   */
  take(lower: string, bundle: string): boolean {
    const entry = this.ready.get(lower)?.shift();
    this.fill(lower);
    if (entry === undefined) return false;
    try {
      renameSync(entry, bundle);
      return true;
    } catch (err) {
      this.log(`container root pool: cannot take ${entry} (${(err as Error).message}); the launch mounts its own root`);
      return false;
    }
  }

  /**
   * Mounts a root over `lower` in `bundle` (created here) by the pool's mounting shell: for a launch that found
   * none ready, while it waits its turn to be started, rather than by its supervisor once started. Rejects
   * with the mount's error.
   */
  async mountInto(lower: string, bundle: string): Promise<void> {
    const answer = await this.ask(`${lower}\t${bundle}\n`);
    if (answer !== 'ok') throw new Error(`cannot mount the container's root over ${lower}: ${answer}`);
  }

  /** Keeps `size` roots over `lower` ready, in the background. */
  fill(lower: string): void {
    if (this.closed || this.size <= 0 || this.filling.has(lower)) return;
    const filled = this.refill(lower).catch((err: Error) => this.log(`container root pool: ${err.message}; launches mount their own roots`))
      .finally(() => this.filling.delete(lower));
    this.filling.set(lower, filled);
  }

  private async refill(lower: string): Promise<void> {
    const ready = this.ready.get(lower) ?? [];
    this.ready.set(lower, ready);
    while (!this.closed && ready.length < this.size) {
      mkdirSync(this.runDir, { recursive: true });
      const entry = join(this.runDir, randomUUID());
      const answer = await this.ask(`${lower}\t${entry}\n`);
      if (answer !== 'ok') {
        await rm(entry, { recursive: true, force: true });
        throw new Error(`cannot prepare a root over ${lower}: ${answer}`);
      }
      if (this.closed) break;
      ready.push(entry);
    }
  }

  private ask(line: string): Promise<string> {
    if (!this.mounter) {
      const child = spawn('/bin/sh', ['-c', MOUNTER], { stdio: ['pipe', 'pipe', 'ignore'] });
      child.on('error', () => {});
      child.stdin!.on('error', () => {});
      createInterface({ input: child.stdout! }).on('line', (l) => this.answers.shift()?.(l.trim()));
      child.once('exit', () => {
        this.mounter = null;
        for (const answer of this.answers.splice(0)) answer('the mounting shell exited');
      });
      child.unref();
      (child.stdin as unknown as { unref?: () => void }).unref?.();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      this.mounter = child;
    }
    const mounter = this.mounter;
    return new Promise((resolve) => {
      this.answers.push(resolve);
      mounter.stdin!.write(line);
    });
  }

  /** Unmounts and removes what earlier runs of the agent left in the pool (their roots are no container's). */
  async clearStale(): Promise<void> {
    const runs = existsSync(this.dir) ? readdirSync(this.dir).map((r) => join(this.dir, r)).filter((r) => r !== this.runDir) : [];
    for (const r of runs) await removeRoots(r);
  }

  /** No more refills; every prepared root unmounted and removed. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.filling.values());
    this.mounter?.stdin?.end();
    this.ready.clear();
    await removeRoots(this.runDir);
  }
}

/** Unmounts every mount under `dir`, then removes it. */
async function removeRoots(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(`${dir}/`));
  for (const m of mounts) await run('umount', [m]).catch(() => run('umount', ['-l', m]).catch(() => {}));
  await rm(dir, { recursive: true, force: true });
}
