// What the agent writes down so that it can be killed at any moment and
// come back without losing a task or an update:
//
//   <work_dir>/meta/agent.json                                    {"agent_id": "...", "secret": "..."}
//   <work_dir>/meta/tasks/<framework_id>/<task_id>/task.json      FrameworkInfo + TaskInfo (protobuf, base64) + container id
//   <work_dir>/meta/tasks/<framework_id>/<task_id>/updates        one JSON record a line: an update (TaskStatus with its
//                                                                 uuid, protobuf, base64) or the acknowledgement of a uuid
//
// JSON files are replaced atomically (write, fsync, rename); update records
// are appended and fsynced before the update is sent. A write that fails (a
// full disk) leaves the old JSON file whole and cuts a partial record off the
// updates file, so a checkpoint is never left torn in its middle. Writes of a task's
// files run one after another in the order they were asked for (so a caller
// that waits for one knows every earlier write of the task is on disk too).
// Appends run in the libuv threadpool; task.json is written synchronously, in
// its turn (about a millisecond, fsync included, where six thread-pool round
// trips held every launch up by tens of ms on a loaded host). Recovery reads it all
// back: a torn last line of an updates file (the agent died while appending
// it, so the update was never sent) is dropped with a warning; anything else
// that does not parse stops the agent with an error naming the file, so a
// running task is never silently forgotten.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameworkInfoOut, TaskInfoOut, TaskStatusIn, TaskStatusOut } from '../proto/index.js';
import { LOADER_OPTIONS, protoRoot } from '../proto/index.js';
import { FailedPrecondition } from '../common/errors.js';
import { taskKey } from '../common/ids.js';


function encode(typeName: string, value: object): string {
  const type = protoRoot.lookupType(typeName);
  return Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()).toString('base64');
}

function decode<T>(typeName: string, base64: string): T {
  const type = protoRoot.lookupType(typeName);
  return type.toObject(type.decode(Buffer.from(base64, 'base64')), LOADER_OPTIONS as never) as T;
}

export interface RecoveredTask {
  readonly framework: FrameworkInfoOut;
  readonly task: TaskInfoOut;
  readonly containerId: string | null;
  /** Every update the task produced, in order. */
  readonly updates: readonly TaskStatusOut[];
  /** The uuids of those not yet acknowledged (a suffix of `updates`). */
  readonly unacknowledged: readonly TaskStatusOut[];
}

export interface Recovered {
  readonly agentId: string | null;
  /** The secret issued with the AgentID ('' when none was). */
  readonly secret: string;
  readonly tasks: readonly RecoveredTask[];
  /** What was dropped on the way (torn records), for the log. */
  readonly warnings: readonly string[];
}

/** A checkpoint the agent cannot read: it names the file and says what to do. */
export class CheckpointError extends FailedPrecondition {}

/** A task's writes under way: each starts when the one before it has settled. */
interface TaskWrites {
  /** Settles (never rejects) when the last write asked for has. */
  tail: Promise<void>;
  /** The first of them that failed. */
  failure: Error | null;
  /** The updates file, opened for synchronous appends (O_SYNC: a record is on disk when its write returns). */
  updates: FileHandle | null;
  /** Its size after the last whole record: where a record the disk took only part of is cut off. */
  updatesSize: number;
  /** The last task.json write (what a launch waits for: not the update records queued after it). */
  task?: Promise<void>;
}

export class Checkpointer {
  readonly dir: string;
  private readonly writes = new Map<string, TaskWrites>();

  constructor(workDir: string) {
    this.dir = join(workDir, 'meta');
  }

  /** The AgentID and the secret the master issued with it (proof of identity when re-registering). */
  writeAgentId(agentId: string, secret = ''): void {
    this.writeJson(join(this.dir, 'agent.json'), { agent_id: agentId, ...(secret ? { secret } : {}) });
  }

  /** Before the task's container is started (see written()), and again once it has an id. Settles when on disk. */
  writeTask(framework: FrameworkInfoOut, task: TaskInfoOut, containerId: string | null = null): Promise<void> {
    const frameworkId = framework.id?.value ?? '';
    const taskId = task.task_id?.value ?? '';
    const file = join(this.taskDir(frameworkId, taskId), 'task.json');
    const doc = { framework: encode('mesos.v1.FrameworkInfo', framework), task: encode('mesos.v1.TaskInfo', task), container_id: containerId };
    // Before the start, written synchronously (in its turn among the task's writes): six small file calls, each a
    // thread-pool round trip when asynchronous, held up every launch by tens of ms on a loaded host (bench:launch).
    // With the container id (after TASK_RUNNING) no launch waits for it, while a synchronous fsync would stop the
    // event loop (5 to 15 ms on this host under load) just as TASK_RUNNING goes out: written in the thread pool.
    const write = containerId === null ? async () => this.writeJson(file, doc) : () => this.writeJsonInPool(file, doc);
    const done = this.queue(frameworkId, taskId, write);
    this.writes.get(taskKey(frameworkId, taskId))!.task = done;
    return done;
  }

  /** Before the update is sent: settles when the record is on disk. */
  appendUpdate(frameworkId: string, status: TaskStatusIn & { readonly uuid: Buffer }): Promise<void> {
    return this.appendRecord(frameworkId, status.task_id?.value ?? '', JSON.stringify({ update: encode('mesos.v1.TaskStatus', status) }) + '\n');
  }

  private appendRecord(frameworkId: string, taskId: string, text: string): Promise<void> {
    return this.queue(frameworkId, taskId, async (writes) => {
      if (!writes.updates) {
        await mkdir(this.taskDir(frameworkId, taskId), { recursive: true });
        const opened = await open(join(this.taskDir(frameworkId, taskId), 'updates'), 'as');
        // Once per file (a recovered task's has records): then counted here, not asked of the disk before every record.
        try {
          writes.updatesSize = (await opened.stat()).size;
        } catch (err) {
          await opened.close().catch(() => {});
          throw err;
        }
        writes.updates = opened;
      }
      const handle = writes.updates;
      const bytes = Buffer.from(text);
      try {
        await handle.writeFile(bytes);
      } catch (err) {
        // A full disk can take part of the record: cut it off, so that the next record starts on a line
        // of its own and recovery never meets a torn record before the last line.
        await handle.truncate(writes.updatesSize).catch(() => {});
        throw err;
      }
      writes.updatesSize += bytes.length;
    });
  }

  /** Settles when the record is on disk (the acknowledged update's successor is sent only then). */
  appendAck(frameworkId: string, taskId: string, uuid: Buffer): Promise<void> {
    return this.appendRecord(frameworkId, taskId, JSON.stringify({ ack: uuid.toString('base64') }) + '\n');
  }

  /** Settles when every write of this task asked for so far is on disk; rejects if one of them failed. */
  written(frameworkId: string, taskId: string): Promise<void> {
    const writes = this.writes.get(taskKey(frameworkId, taskId));
    if (!writes) return Promise.resolve();
    return writes.tail.then(() => {
      if (writes.failure) throw writes.failure;
    });
  }

  /**
   * Settles when the task's last task.json write is on disk, and every write asked for before it; rejects
   * if it failed. Unlike written(), it does not wait for update records asked for since (a launch waits
   * for its task, not for the O_SYNC append of its TASK_STARTING).
   */
  taskWritten(frameworkId: string, taskId: string): Promise<void> {
    return this.writes.get(taskKey(frameworkId, taskId))?.task ?? Promise.resolve();
  }

  /** The task is over and its last update acknowledged: nothing of it is needed any more (removed after its pending writes). */
  removeTask(frameworkId: string, taskId: string): Promise<void> {
    const key = taskKey(frameworkId, taskId);
    const done = this.queue(frameworkId, taskId, async (writes) => {
      await writes.updates?.close();
      writes.updates = null;
      await rm(this.taskDir(frameworkId, taskId), { recursive: true, force: true });
      try {
        await rm(join(this.dir, 'tasks', frameworkId), { recursive: false });
      } catch {
        // Not empty (other tasks of the framework), or gone: both fine.
      }
    });
    // Forgotten once removed, unless something of the task was written again meanwhile (a new task with the same id).
    const writes = this.writes.get(key)!;
    const tail = writes.tail;
    void tail.then(() => {
      if (this.writes.get(key) === writes && writes.tail === tail) this.writes.delete(key);
    });
    return done;
  }

  /** Waits for every pending write and closes the files kept open (the agent stops). */
  async close(): Promise<void> {
    const all = [...this.writes.values()];
    await Promise.all(all.map((w) => w.tail));
    for (const w of all) {
      const handle = w.updates;
      w.updates = null;
      await handle?.close().catch(() => {});
    }
  }

  /** --recover=cleanup: forget everything. */
  wipe(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  recover(): Recovered {
    const warnings: string[] = [];
    const agentFile = join(this.dir, 'agent.json');
    let agentId: string | null = null;
    let secret = '';
    if (existsSync(agentFile)) {
      const doc = this.readJson(agentFile);
      if (typeof doc.agent_id !== 'string' || doc.agent_id === '') throw this.corrupt(agentFile, 'no agent_id');
      agentId = doc.agent_id;
      if (typeof doc.secret === 'string') secret = doc.secret;
    }
    const tasks: RecoveredTask[] = [];
    const root = join(this.dir, 'tasks');
    for (const frameworkId of existsSync(root) ? readdirSync(root) : []) {
      for (const taskId of readdirSync(join(root, frameworkId))) {
        const dir = join(root, frameworkId, taskId);
        const taskFile = join(dir, 'task.json');
        if (!existsSync(taskFile)) {
          // The agent died before the task was written down: it was never launched.
          warnings.push(`${dir}: no task.json (the agent stopped before launching the task); removed`);
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
        tasks.push(this.recoverTask(taskFile, join(dir, 'updates'), warnings));
      }
    }
    return { agentId, secret, tasks, warnings };
  }

  private recoverTask(taskFile: string, updatesFile: string, warnings: string[]): RecoveredTask {
    const doc = this.readJson(taskFile);
    let framework: FrameworkInfoOut;
    let task: TaskInfoOut;
    try {
      framework = decode<FrameworkInfoOut>('mesos.v1.FrameworkInfo', String(doc.framework));
      task = decode<TaskInfoOut>('mesos.v1.TaskInfo', String(doc.task));
    } catch (err) {
      throw this.corrupt(taskFile, err instanceof Error ? err.message : String(err));
    }
    if (!framework.id?.value || !task.task_id?.value) throw this.corrupt(taskFile, 'no framework id or task id');
    const updates: TaskStatusOut[] = [];
    const acked = new Set<string>();
    if (existsSync(updatesFile)) {
      const text = readFileSync(updatesFile, 'utf8');
      const lines = text.split('\n');
      const torn = !text.endsWith('\n') && text.length > 0;
      lines.forEach((line, i) => {
        if (line === '') return;
        try {
          const record = JSON.parse(line) as { update?: string; ack?: string };
          if (typeof record.update === 'string') updates.push(decode<TaskStatusOut>('mesos.v1.TaskStatus', record.update));
          else if (typeof record.ack === 'string') acked.add(record.ack);
          else throw new Error('neither an update nor an ack');
        } catch (err) {
          if (torn && i === lines.length - 1) {
            warnings.push(`${updatesFile}: dropped a torn last record (the agent died while writing it, before sending it)`);
            return;
          }
          throw this.corrupt(updatesFile, `line ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    }
    const unacknowledged = updates.filter((u) => !acked.has(u.uuid.toString('base64')));
    const containerId = typeof doc.container_id === 'string' ? doc.container_id : null;
    return { framework, task, containerId, updates, unacknowledged };
  }

  private taskDir(frameworkId: string, taskId: string): string {
    return join(this.dir, 'tasks', frameworkId, taskId);
  }

  /** Runs `write` once the task's earlier writes have settled; a failure is kept for written(). */
  private queue(frameworkId: string, taskId: string, write: (writes: TaskWrites) => Promise<void>): Promise<void> {
    const key = taskKey(frameworkId, taskId);
    let writes = this.writes.get(key);
    if (!writes) this.writes.set(key, (writes = { tail: Promise.resolve(), failure: null, updates: null, updatesSize: 0 }));
    const w = writes;
    const done = w.tail.then(() => write(w));
    w.tail = done.catch((err: unknown) => {
      w.failure ??= err instanceof Error ? err : new Error(String(err));
    });
    return done;
  }

  private writeJson(file: string, value: object): void {
    mkdirSync(join(file, '..'), { recursive: true });
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      // writeSync may write part of a buffer when the disk fills: write the rest until it is all there (or it throws).
      const bytes = Buffer.from(JSON.stringify(value) + '\n');
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } catch (err) {
      // Full disk: the old file stays as it was; the partial new one goes, not to hold the space.
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, file);
  }

  /** writeJson's steps through the thread pool: the event loop never waits for the disk. */
  private async writeJsonInPool(file: string, value: object): Promise<void> {
    const tmp = `${file}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify(value) + '\n');
      await handle.sync();
    } catch (err) {
      await handle.close();
      await rm(tmp, { force: true });
      throw err;
    }
    await handle.close();
    await rename(tmp, file);
  }

  private readJson(file: string): Record<string, unknown> {
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a JSON object');
      return doc as Record<string, unknown>;
    } catch (err) {
      throw this.corrupt(file, err instanceof Error ? err.message : String(err));
    }
  }

  private corrupt(file: string, why: string): CheckpointError {
    return new CheckpointError(
      `checkpoint ${file} is unreadable (${why}); the agent will not start without it, or it could lose a running task. ` +
        'Repair or remove the file, or start with --recover=cleanup to kill every task of this work_dir and start afresh',
    );
  }
}
