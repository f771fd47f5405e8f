// A task's stdout or stderr in its sandbox, rotated by size: when `path`
// holds `maxBytes` (a chunk is split to fill it), it becomes `path.1` (and
// `path.1` becomes `path.2`, ...; at most `keep` rotated files are kept).
// Writes are synchronous appends: a task's output is never reordered, and
// what was written is on disk when the write returns. The agent's sandboxes
// and the master's and agent's own logs (--log_dir) both use it.
import { Writable } from 'node:stream';
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

export interface Rotation {
  /** Size at which the file is rotated; 0 never rotates. */
  readonly maxBytes: number;
  /** Rotated files kept besides the current one. */
  readonly keep: number;
  /** Keep each chunk whole (a log line): rotate before one that would overflow a non-empty file. Default false. */
  readonly wholeChunks?: boolean;
}

export class RotatingFile extends Writable {
  private fd: number;
  private size: number;

  constructor(
    readonly path: string,
    private readonly rotation: Rotation,
  ) {
    super();
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      const max = this.rotation.maxBytes;
      let rest = chunk;
      while (rest.length > 0) {
        if (max > 0 && (this.size >= max || (this.rotation.wholeChunks && this.size > 0 && this.size + rest.length > max))) this.rotate();
        const part = max > 0 && !this.rotation.wholeChunks ? rest.subarray(0, max - this.size) : rest;
        writeSync(this.fd, part);
        this.size += part.length;
        rest = rest.subarray(part.length);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    try {
      closeSync(this.fd);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private rotate(): void {
    closeSync(this.fd);
    const { keep } = this.rotation;
    if (keep <= 0) rmSync(this.path, { force: true });
    else {
      rmSync(`${this.path}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}
