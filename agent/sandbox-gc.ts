// Sandboxes of tasks that are over are removed --gc_delay after the task was
// forgotten (its last update acknowledged). After a restart, sandboxes that
// belong to no task are scheduled by their age. A sandbox a live task uses
// again (a framework may reuse a task id) is never removed.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../common/log/logger.js';

export class SandboxGc {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly root: string,
    private readonly delaySeconds: number,
    private readonly inUse: (sandbox: string) => boolean,
    private readonly logger: Logger,
  ) {}

  /** Removes `sandbox` once `delaySeconds` have passed since `since` (ms since the epoch; default now). */
  schedule(sandbox: string, since = Date.now()): void {
    const previous = this.timers.get(sandbox);
    if (previous) clearTimeout(previous);
    const wait = Math.max(0, since + this.delaySeconds * 1000 - Date.now());
    const timer = setTimeout(() => this.collect(sandbox), Math.min(wait, 2 ** 31 - 1));
    timer.unref();
    this.timers.set(sandbox, timer);
  }

  /** At start: every sandbox no task uses is scheduled by its last change. */
  scan(): void {
    if (!existsSync(this.root)) return;
    for (const framework of readdirSync(this.root)) {
      for (const task of readdirSync(join(this.root, framework))) {
        const sandbox = join(this.root, framework, task);
        if (!this.inUse(sandbox)) this.schedule(sandbox, statSync(sandbox).mtimeMs);
      }
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private collect(sandbox: string): void {
    this.timers.delete(sandbox);
    if (this.inUse(sandbox) || !existsSync(sandbox)) return;
    rmSync(sandbox, { recursive: true, force: true });
    this.logger.info({ sandbox }, `removed sandbox ${sandbox} (--gc_delay=${this.delaySeconds}s)`);
    const framework = join(sandbox, '..');
    try {
      if (readdirSync(framework).length === 0) rmSync(framework, { recursive: true, force: true });
    } catch {
      // Gone already.
    }
  }
}
