// The OCI runtime (runc by default, --oci_runtime) behind one small
// interface, each call a runtime process today, forked by a long-lived shell
// (command-shell.ts; exec alone is a Node spawn, for its streamed output and
// timeout); a long-lived runtime client could replace it without touching
// the driver.
//
// A container is run by a supervisor that outlives the agent: a shell,
// forked by a long-lived launcher shell in its own session (so an agent
// SIGKILL leaves it running; see Launcher for why not by the agent), that runs
// `runtime run --keep` in the foreground and, when it returns, writes the
// container's exit status to the bundle's `exit` file. The runtime exits with
// the container's status (128+signal when killed by a signal); `--keep` leaves
// the stopped container and its cgroup in place, so that the agent (this run
// or the next) can still read the OOM counter before `delete` removes them.
// The task's stdout and stderr go straight to the sandbox files (appended).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CommandShell, type CommandResult } from './command-shell.js';

export interface RuntimeState {
  readonly id: string;
  /** creating, created, running, paused or stopped (runc's words). */
  readonly status: string;
  readonly pid: number;
  readonly bundle: string;
}

export interface OciRuntime {
  readonly name: string;
  /**
   * Starts the supervisor of a container whose bundle is ready; resolves once it is spawned (not once the
   * container runs). `prepare`, if given, is a command the supervisor runs first (mounting the root: one
   * process spawn fewer for the agent); if it fails, the exit file says 125 and the runtime log says why.
   */
  supervise(id: string, bundle: string, output: { readonly stdoutPath: string; readonly stderrPath: string }, prepare?: readonly string[]): Promise<void>;
  /** null when the runtime knows no such container. */
  state(id: string): Promise<RuntimeState | null>;
  /** Every container under this runtime's root. */
  list(): Promise<RuntimeState[]>;
  /** Signals every process of the container; a container already stopped or gone is not an error. */
  kill(id: string, signal: 'TERM' | 'KILL'): Promise<void>;
  /** Removes the (stopped, or with force any) container and its cgroup; gone already is not an error. */
  delete(id: string): Promise<void>;
  /** Runs argv in the running container: resolves with its exit code and output (bounded); -1 when killed at the timeout. */
  exec(id: string, argv: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ exitCode: number; output: string }>;
}

/** Files the supervisor writes in the bundle. */
export const EXIT_FILE = 'exit';
export const PID_FILE = 'pid';
export const RUNTIME_LOG = 'runtime.log';
/** The supervisor's own pid, so that a supervisor that died without writing the exit is noticed without asking the runtime. */
export const SUPERVISOR_PID_FILE = 'supervisor.pid';

const OUTPUT_LIMIT = 4096;

type Ran = CommandResult;

/**
 * The supervisor of one container, a shell function (arguments: runtime, root, bundle, id, stdout, stderr,
 * then the prepare command if any); they come in as positional parameters, never into the script text.
 * It runs in a forked copy of the launcher, whose $$ is the launcher's: its own pid comes from /proc/self.
 */
const SUPERVISE = 'supervise() { rt="$1" root="$2" b="$3" id="$4" out="$5" err="$6"; shift 6; cd "$b" || exit 1; ' +
  'IFS=" " read -r self rest </proc/self/stat; echo "$self" >"$b/' + SUPERVISOR_PID_FILE + '"; ' +
  'if [ $# -gt 0 ] && ! "$@" </dev/null >/dev/null 2>>"$b/' + RUNTIME_LOG + '"; then status=125; else ' +
  '"$rt" --root "$root" --log "$b/' + RUNTIME_LOG + '" --log-format json run --keep --bundle "$b" --pid-file "$b/' + PID_FILE + '" "$id" </dev/null >>"$out" 2>>"$err"; status=$?; fi; ' +
  'echo $status >"$b/' + EXIT_FILE + '.tmp" && mv "$b/' + EXIT_FILE + '.tmp" "$b/' + EXIT_FILE + '"; }; ';

/**
 * The launcher: each line on its stdin (a supervisor's arguments, tab-separated) becomes one supervisor,
 * a background job of a subshell that exits at once: two forks, no exec. A shell's background job starts with
 * SIGINT and SIGQUIT ignored, but the runtime resets every signal before it starts the task (runc does: a task
 * started so ignores none, checked with /proc/self/status). The supervisor is so no job of the launcher, which
 * has nothing to reap: a CHLD trap to reap its jobs interrupted dash's `read`, which ended the loop and with it
 * the launcher whenever a container exited (the next launch paid a Node spawn for a new one). Its $0, which
 * the supervisors' command line shows too, is SUPERVISOR_NAME.
 */
const LAUNCHER = SUPERVISE + 'set -f; IFS="$(printf \'\\t\')"; ' +
  'while IFS= read -r line; do set -- $line; ( supervise "$@" </dev/null >/dev/null 2>&1 & ); done';

/** In the command line of every supervisor: how a pid is known to be one (not a reused pid). */
export const SUPERVISOR_NAME = 'oci-supervisor';

/**
 * A long-lived shell that forks the supervisors. A Node spawn() forks the whole agent, its event loop
 * stopped meanwhile (15 to 40 ms here, per container); the shell's fork costs well under a millisecond.
 * Detached (its own session): when the agent dies the launcher reads the end of its input and exits, and
 * the supervisors run on.
 */
class Launcher {
  exited = false;
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn('/bin/sh', ['-c', LAUNCHER, SUPERVISOR_NAME], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.child.once('exit', () => (this.exited = true));
    this.child.once('error', () => (this.exited = true));
    this.child.stdin!.on('error', () => (this.exited = true));
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  send(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error('the launcher exited'));
      this.child.stdin!.write(line, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
}

/** runc (or a runtime with runc's command line: crun, youki) as a command. */
export class CommandRuntime implements OciRuntime {
  readonly name: string;

  constructor(private readonly command: string, private readonly root: string, private readonly shell: CommandShell = CommandShell.shared()) {
    this.name = basename(command);
  }

  async supervise(id: string, bundle: string, output: { readonly stdoutPath: string; readonly stderrPath: string }, prepare: readonly string[] = []): Promise<void> {
    const args = [this.command, this.root, bundle, id, output.stdoutPath, output.stderrPath, ...prepare];
    const bad = args.find((a) => /[\t\n]/.test(a) || a === '');
    if (bad !== undefined) throw new Error(`cannot hand '${bad}' to the container's supervisor: empty, or holding a tab or a newline`);
    const line = args.join('\t') + '\n';
    try {
      await this.launcher().send(line);
    } catch {
      // The launcher died (killed by hand): a new one takes this container and the next ones.
      this.launcherProcess = null;
      await this.launcher().send(line);
    }
  }

  private launcherProcess: Launcher | null = null;

  private launcher(): Launcher {
    if (!this.launcherProcess || this.launcherProcess.exited) this.launcherProcess = new Launcher();
    return this.launcherProcess;
  }

  /** Ends the launcher (containers and their supervisors keep running); the next supervise() starts another. */
  close(): void {
    this.launcherProcess?.close();
    this.launcherProcess = null;
  }

  async state(id: string): Promise<RuntimeState | null> {
    const ran = await this.run(['state', id]);
    if (ran.code !== 0) {
      if (/does not exist|not exist|no such/i.test(ran.stderr)) return null;
      throw new Error(`${this.name} state ${id}: ${lastLine(ran.stderr)}`);
    }
    return JSON.parse(ran.stdout) as RuntimeState;
  }

  async list(): Promise<RuntimeState[]> {
    if (!existsSync(this.root)) return [];
    const ran = await this.run(['list', '--format', 'json']);
    if (ran.code !== 0) throw new Error(`${this.name} list: ${lastLine(ran.stderr)}`);
    return (JSON.parse(ran.stdout || 'null') as RuntimeState[] | null) ?? [];
  }

  async kill(id: string, signal: 'TERM' | 'KILL'): Promise<void> {
    const ran = await this.run(['kill', '--all', id, signal]);
    if (ran.code !== 0 && !/not running|does not exist|no such process|process already finished|container not running/i.test(ran.stderr)) {
      throw new Error(`${this.name} kill ${id} ${signal}: ${lastLine(ran.stderr)}`);
    }
  }

  async delete(id: string): Promise<void> {
    const ran = await this.run(['delete', '--force', id]);
    if (ran.code !== 0 && !/does not exist|no such/i.test(ran.stderr)) throw new Error(`${this.name} delete ${id}: ${lastLine(ran.stderr)}`);
  }

  exec(id: string, argv: readonly string[], env: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, ['--root', this.root, 'exec', ...envArgs, id, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = Buffer.alloc(0);
      const keep = (chunk: Buffer) => (output = Buffer.concat([output, chunk]).subarray(-OUTPUT_LIMIT));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let timedOut = false;
      const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs) : undefined;
      child.once('error', (err) => { clearTimeout(timer); reject(err); });
      child.once('close', (code) => {
        clearTimeout(timer);
        const text = output.toString('utf8');
        if (timedOut) resolve({ exitCode: -1, output: `${text}\n[did not end within ${timeoutMs / 1000}s; killed]`.trimStart() });
        else resolve({ exitCode: code ?? -1, output: text });
      });
    });
  }

  /** Through the long-lived command shell: a Node spawn would stop the agent's event loop for each call (command-shell.ts). */
  private run(args: readonly string[]): Promise<Ran> {
    return this.shell.run([this.command, '--root', this.root, ...args]);
  }
}

/** The runtime's last error in its log (runc writes JSON lines: {"level":"error","msg":...}); '' when none. */
export function runtimeError(logPath: string): string {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return '';
  }
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) return entry.msg;
    } catch {
      if (line.trim()) return line.trim();
    }
  }
  return '';
}

/**
 * Why the runtime cannot run containers on this host, or null. crun refuses a hybrid
 * cgroup layout (v1 controllers with the unified tree holding some, e.g. hugetlb):
 * said once here, at start-up, rather than by every task failing.
 */
export async function runtimeProblem(command: string, cgroupRoot = '/sys/fs/cgroup'): Promise<string | null> {
  const version = await new Promise<Ran | Error>((resolve) => {
    const child = spawn(command, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.once('error', resolve);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: '' }));
  });
  if (version instanceof Error) return `--oci_runtime '${command}' cannot be run (${version.message}); install runc (apt-get install runc) or name another runtime`;
  if (version.code !== 0) return `--oci_runtime '${command}' --version exited with status ${version.code}`;
  const unified = `${cgroupRoot}/unified/cgroup.controllers`;
  const hybridControllers = existsSync(unified) ? readFileSync(unified, 'utf8').trim() : '';
  if (/^crun/m.test(version.stdout) && hybridControllers !== '') {
    return `--oci_runtime '${command}' is crun, which refuses this host's hybrid cgroup layout (cgroup v1 with controllers '${hybridControllers}' ` +
      'in the unified tree: "cgroups in hybrid mode not supported"); use runc (the default) on this host';
  }
  return null;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
