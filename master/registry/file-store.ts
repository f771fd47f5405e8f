// The registry kept on the master's disk, under --work_dir, for a master
// that leads alone (no --zk): as Mesos keeps its registry in the work_dir's
// replicated log, a master restarted with the same --work_dir takes back the
// agents, frameworks and task index it had, and its agents and schedulers
// carry on.
//
// The whole registry is one JSON file, rewritten on every write: written to
// a temporary file, synced, then renamed over the old one, so a crash leaves
// either the old registry or the new one, never a mix (every write applies
// all its changes atomically, as the RegistryStore contract asks). The cost
// grows with the registry; a cluster that outgrows one file wants --zk.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../common/atomic-file.js';
import type { RegistryChange, RegistryKey, RegistryStore } from './registry.js';

interface RegistryFile {
  readonly format: 'mesos-ts registry 1';
  readonly docs: Record<string, Record<string, unknown>>;
}

export class FileRegistryStore implements RegistryStore {
  readonly name: string;
  private docs = new Map<RegistryKey, Record<string, unknown>>();

  constructor(private readonly path: string) {
    this.name = `file ${path}`;
  }

  async load(): Promise<Map<RegistryKey, Record<string, unknown>>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map(this.docs);
      throw err;
    }
    let parsed: RegistryFile;
    try {
      parsed = JSON.parse(text) as RegistryFile;
    } catch (err) {
      throw new Error(`${this.path} is not a registry this master wrote (${err instanceof Error ? err.message : String(err)}); move it away to start empty`);
    }
    if (parsed?.format !== 'mesos-ts registry 1' || typeof parsed.docs !== 'object' || parsed.docs === null) {
      throw new Error(`${this.path} is not a registry this master wrote (no "format": "mesos-ts registry 1"); move it away to start empty`);
    }
    this.docs = new Map(Object.entries(parsed.docs) as [RegistryKey, Record<string, unknown>][]);
    return new Map(this.docs);
  }

  async write(changes: readonly RegistryChange[]): Promise<void> {
    const next = new Map(this.docs);
    for (const c of changes) {
      if (c.value) next.set(c.key, c.value);
      else next.delete(c.key);
    }
    const body: RegistryFile = { format: 'mesos-ts registry 1', docs: Object.fromEntries(next) };
    await writeFileAtomic(this.path, JSON.stringify(body));
    this.docs = next;
  }
}
