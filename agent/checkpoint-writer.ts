// The thread that writes a task's checkpoint file (task.json) for the agent:
// mkdir, write, fsync, rename, all synchronous there and one message each way
// here. Done on the agent's own thread, the fsync held its event loop (and in
// a burst every other launch, status update and gRPC message) for as long as
// the disk took; done through node:fs/promises it was six thread-pool round
// trips. The launch still waits for the file before its container starts:
// only the agent's other work goes on meanwhile.
import { Worker } from 'node:worker_threads';

/** CommonJS, evaluated as the worker's source: no file to resolve beside the compiled or the tsx-run agent. */
const WRITER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
parentPort.on('message', ({ id, file, text }) => {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = file + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    parentPort.postMessage({ id });
  } catch (err) {
    parentPort.postMessage({ id, error: err && err.message ? err.message : String(err) });
  }
});`;

export class FileWriterThread {
  private worker: Worker | null = null;
  private next = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  /** Replaces `file` atomically with `text` (written, fsynced, renamed); settles when it is on disk. */
  write(file: string, text: string): Promise<void> {
    const worker = this.start();
    const id = this.next++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Kept alive only while a write is under way: an idle writer never holds the agent's process open.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, file, text });
    });
  }

  /** Starts the thread now (a new thread takes tens of ms to boot on a loaded host: not on a launch's path). */
  warm(): void {
    this.start();
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WRITER, { eval: true });
    worker.unref();
    worker.on('message', (m: { id: number; error?: string }) => {
      const waiting = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined) waiting?.reject(new Error(m.error));
      else waiting?.resolve();
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const w of this.pending.values()) w.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the checkpoint writer thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
