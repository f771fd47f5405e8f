// Short commands of the mesos containerizer (runc state/list/kill/delete,
// umount) run by one long-lived shell instead of a Node spawn each. A Node
// spawn forks the whole agent and its event loop stands still meanwhile: in
// a CPU profile of bench/launch.ts (load average 17 to 84) the agent's
// spawns of `runc kill`, `runc delete` and `umount` held the event loop 52 s
// in all, 100 to 200 ms each during the bursts, every launch in flight
// waiting behind them. The shell's fork costs well under a millisecond.
//
// Protocol: one line per command on the shell's stdin (tab-separated: a tag,
// then argv); each runs as a background job of a subshell that exits at
// once (so no job of the shell itself is left to reap: a CHLD trap would
// interrupt dash's `read` and end the loop), its stdout and
// stderr into two files, and the shell answers
// "<tag> <exit status>" on its stdout (one short write: lines of
// concurrent jobs do not interleave). The caller reads and removes the files.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** $1 tag, $2 the output files' path without .out/.err, then argv; 127 when the command cannot be run, as a shell says. */
const SHELL = 'set -f; IFS="$(printf \'\\t\')"; ' +
  'while IFS= read -r line; do set -- $line; ' +
  '( ( tag="$1" files="$2"; shift 2; "$@" </dev/null >"$files.out" 2>"$files.err"; echo "$tag $?" ) & ); done';

export class CommandShell {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<string, (code: number) => void>();
  /** The output files of command <tag> are <prefix><tag>.out and .err. */
  private readonly prefix: string;
  private seq = 0;

  /**
   * `dir`: where the output files go while a command runs, created here and emptied of what an earlier process
   * left (the agent's is under its work_dir). By default the system's temporary folder, the files named after
   * this process (each removed once read: no folder is left behind by a process that is killed).
   */
  constructor(dir?: string) {
    if (dir === undefined) {
      this.prefix = join(tmpdir(), `mesos-ts-command-${process.pid}-${randomUUID().slice(0, 8)}-`);
    } else {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      this.prefix = join(dir, 'command-');
    }
  }

  /** Runs argv; resolves with its exit status and output (never rejects for a failing command). */
  async run(argv: readonly string[]): Promise<CommandResult> {
    const bad = [this.prefix, ...argv].find((a) => /[\t\n]/.test(a) || a === '');
    if (bad !== undefined || argv.length === 0) throw new Error(`cannot run '${argv.join(' ')}': an empty argument or one holding a tab or a newline`);
    const tag = String(this.seq++);
    const shell = this.shell();
    const code = await new Promise<number>((resolve) => {
      this.pending.set(tag, resolve);
      // While a command runs its answer keeps the process alive (a short script awaiting it would otherwise exit).
      if (this.pending.size === 1) refStream(shell.stdout, true);
      shell.stdin!.write([tag, `${this.prefix}${tag}`, ...argv].join('\t') + '\n');
    });
    const file = (ext: string) => {
      const path = `${this.prefix}${tag}.${ext}`;
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return '';
      } finally {
        rmSync(path, { force: true });
      }
    };
    return { code, stdout: file('out'), stderr: file('err') };
  }

  private shell(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn('/bin/sh', ['-c', SHELL], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', () => {});
    child.stdin!.on('error', () => {});
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [tag = '', code = ''] = line.trim().split(' ');
      const answer = this.pending.get(tag);
      this.pending.delete(tag);
      if (this.pending.size === 0) refStream(child.stdout, false);
      answer?.(Number.isInteger(Number(code)) && code !== '' ? Number(code) : -1);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = null;
      // Commands in flight are lost with the shell (killed by hand): each is reported as failed; the next run() starts another shell.
      for (const [tag, answer] of [...this.pending]) {
        this.pending.delete(tag);
        answer(-1);
      }
    });
    // Neither the shell nor its pipes keep the agent's process alive.
    child.unref();
    refStream(child.stdin, false);
    refStream(child.stdout, false);
    this.child = child;
    return child;
  }

  /** The shell's pid while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Ends the shell once its running commands are done (a later run() starts another). */
  close(): void {
    this.child?.stdin?.end();
    this.child = null;
  }

  private static instance: CommandShell | null = null;

  /** The process's shell, shared by every driver and root maker that is not given its own. */
  static shared(): CommandShell {
    CommandShell.instance ??= new CommandShell();
    return CommandShell.instance;
  }
}

function refStream(stream: unknown, ref: boolean): void {
  const handle = stream as { ref?: () => void; unref?: () => void } | null;
  if (ref) handle?.ref?.();
  else handle?.unref?.();
}
