// The agent's files, as Mesos's /files endpoints serve them (src/files/files.cpp):
// browse a directory, read a slice of a file, download a whole file. Only
// sandboxes can be reached, under the names Mesos gives them:
//
//   <directory>                                          a task's sandbox, as /state reports it (executors[].directory)
//   /frameworks/F/executors/E/runs/latest                Mesos's virtual path of an executor's latest run
//   <work_dir>/slaves/A/frameworks/F/executors/E/runs/latest   its older, on-disk style name
//   any path inside <work_dir>/sandboxes                 sandboxes of tasks this agent no longer lists (kept for --gc_delay)
//
// A path resolves through the longest name it starts with; what is left is
// looked up inside that directory, and a result whose real path leaves it
// (`..`, a symlink) is refused with 400 as Mesos refuses it; a path under no
// name is 404. Every file system call is async: a slow disk never stalls the agent.
import { open, readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, sep } from 'node:path';
import { userInfo } from 'node:os';

/** Mesos caps one read at 16 pages. */
export const MAX_READ_BYTES = 16 * 4096;

export type FilesResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: 400 | 403 | 404 | 500; readonly message: string };

/** Authorization of one request (access_sandboxes): why the real path it resolved to is refused to it, or null. */
export type SandboxCheck = (real: string) => string | null;

/** One entry of a browse, in Mesos's v0 JSON (FileInfo's model). */
export interface FileEntry {
  readonly path: string;
  readonly nlink: number;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** `ls -l` style, e.g. `-rw-r--r--`. */
  readonly mode: string;
  readonly uid: string;
  readonly gid: string;
  /** Raw st_mode, for the v1 API's FileInfo.mode. */
  readonly rawMode: number;
}

export interface ReadResult {
  readonly size: number;
  readonly data: Buffer;
}

/** Virtual name -> real directory. */
export type Attachments = ReadonlyMap<string, string>;

export class SandboxFiles {
  /** `attachments()` is asked on every request (cheap: it reads the agent's runners). */
  constructor(private readonly sandboxesRoot: string, private readonly attachments: () => Attachments) {}

  async browse(path: string, check?: SandboxCheck): Promise<FilesResult<FileEntry[]>> {
    const resolved = await this.resolve(path, check);
    if (!resolved.ok) return resolved;
    // A file lists as nothing, as in Mesos (its listing of what cannot be listed is empty).
    const names = await readdir(resolved.value).catch(() => [] as string[]);
    const base = path.replace(/\/+$/, '');
    const entries = await Promise.all(names.sort().map(async (name) => {
      const s = await stat(join(resolved.value, name)).catch(() => null);
      return s ? fileEntry(`${base}/${name}`, s) : null;
    }));
    return { ok: true, value: entries.filter((e): e is FileEntry => e !== null) };
  }

  /** `length` undefined: to the end (capped at MAX_READ_BYTES); an offset past the end reads nothing. */
  async read(path: string, offset: number, length: number | undefined, check?: SandboxCheck): Promise<FilesResult<ReadResult>> {
    const resolved = await this.resolve(path, check);
    if (!resolved.ok) return resolved;
    const handle = await open(resolved.value, 'r').catch(() => null);
    if (!handle) return { ok: false, status: 404, message: `cannot open ${path}` };
    try {
      const s = await handle.stat();
      if (s.isDirectory()) return { ok: false, status: 400, message: 'Cannot read a directory.' };
      const want = Math.min(length ?? s.size - offset, MAX_READ_BYTES, Math.max(0, s.size - offset));
      if (want <= 0) return { ok: true, value: { size: s.size, data: Buffer.alloc(0) } };
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await handle.read(buffer, 0, want, offset);
      return { ok: true, value: { size: s.size, data: buffer.subarray(0, bytesRead) } };
    } catch (err) {
      return { ok: false, status: 500, message: `cannot read ${path}: ${(err as Error).message}` };
    } finally {
      await handle.close();
    }
  }

  /** The real path of a regular file to send whole. */
  async download(path: string, check?: SandboxCheck): Promise<FilesResult<{ readonly file: string; readonly size: number }>> {
    const resolved = await this.resolve(path, check);
    if (!resolved.ok) return resolved;
    const s = await stat(resolved.value).catch(() => null);
    if (!s) return { ok: false, status: 404, message: `no file ${path}` };
    if (s.isDirectory()) return { ok: false, status: 400, message: 'Cannot download a directory.' };
    return { ok: true, value: { file: resolved.value, size: s.size } };
  }

  /** A request path -> the real path it names, inside the directory it is attached under; 403 when `check` refuses it. */
  async resolve(path: string, check?: SandboxCheck): Promise<FilesResult<string>> {
    const resolved = await this.locate(path);
    const refused = resolved.ok && check ? check(resolved.value) : null;
    return refused !== null ? { ok: false, status: 403, message: refused } : resolved;
  }

  private async locate(path: string): Promise<FilesResult<string>> {
    if (!path.startsWith('/')) return { ok: false, status: 404, message: `no file ${path} (paths are absolute)` };
    const attachments = this.attachments();
    const tokens = path.replace(/\/+$/, '').split('/');
    for (let n = tokens.length; n > 1; n--) {
      const dir = attachments.get(tokens.slice(0, n).join('/'));
      if (dir !== undefined) return confine(join(dir, ...tokens.slice(n)), dir, path);
    }
    // Not attached: a sandbox the agent no longer lists.
    return confine(path, this.sandboxesRoot, path, true);
  }
}

/**
 * realpath(candidate) when it stays inside `root`. Under an attached name, leaving it is refused
 * (400, as Mesos); a path under no name (`unattached`) must lie strictly inside the sandboxes, else
 * this agent has no such file (404).
 */
async function confine(candidate: string, root: string, asked: string, unattached = false): Promise<FilesResult<string>> {
  const [real, realRoot] = await Promise.all([realpath(candidate).catch(() => null), realpath(root).catch(() => null)]);
  if (real === null || realRoot === null) return { ok: false, status: 404, message: `no file ${asked}` };
  const inside = real.startsWith(realRoot + sep) || (real === realRoot && !unattached);
  if (inside) return { ok: true, value: real };
  if (unattached) return { ok: false, status: 404, message: `no file ${asked} in this agent's sandboxes` };
  return { ok: false, status: 400, message: `'${asked}' is inaccessible` };
}

const OWNER = (() => {
  try {
    return userInfo();
  } catch {
    return null;
  }
})();

function fileEntry(path: string, s: Stats): FileEntry {
  return {
    path, nlink: s.nlink, size: s.size, mtime: Math.floor(s.mtimeMs / 1000), mode: modeString(s.mode),
    uid: OWNER && OWNER.uid === s.uid ? OWNER.username : String(s.uid),
    gid: String(s.gid), rawMode: s.mode,
  };
}

const TYPES: readonly [number, string][] = [[0o100000, '-'], [0o040000, 'd'], [0o020000, 'c'], [0o060000, 'b'], [0o010000, 'p'], [0o120000, 'l'], [0o140000, 's']];

/** `ls -l` style, as Mesos writes FileInfo.mode in JSON. */
export function modeString(mode: number): string {
  const type = TYPES.find(([bits]) => (mode & 0o170000) === bits)?.[1] ?? '-';
  const rwx = [0o400, 0o200, 0o100, 0o040, 0o020, 0o010, 0o004, 0o002, 0o001].map((bit, i) => (mode & bit ? 'rwx'[i % 3] : '-')).join('');
  return type + rwx;
}
