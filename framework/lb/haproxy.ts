// HAProxy as a child process, and its runtime API. HAProxy runs in
// master-worker mode (-W): a reload is SIGUSR2 to the master, which checks
// the new file, starts a new worker that takes the listening sockets over
// through the admin socket (`expose-fd listeners`) and lets the old worker
// finish its connections, so no connection is refused during a reload. The
// file is checked (`haproxy -c`) before every reload: a bad file never
// replaces a good one.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { writeFileSync, renameSync } from 'node:fs';
import { promisify } from 'node:util';
import { Unavailable, InvalidArgument } from '../../common/errors.js';
import type { Logger } from '../../common/log/logger.js';
import { parseStatsCsv } from './haproxy-stats.js';

const run = promisify(execFile);

export interface HaproxyOptions {
  /** The haproxy executable (a path or a name on PATH). */
  readonly binary: string;
  readonly configFile: string;
  readonly adminSocket: string;
  readonly logger: Logger;
}

/** One runtime API command's answer: HAProxy answers every command in text and closes the connection. */
export function runtimeCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let answer = '';
    const timer = setTimeout(() => conn.destroy(new Unavailable(`HAProxy's admin socket did not answer '${command}' in ${timeoutMs} ms`)), timeoutMs);
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (answer += chunk));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    conn.end(`${command}\n`);
  });
}

/** A server's state in HAProxy, from `show servers state` and `show stat`. */
export interface ServerState {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** srv_admin_state: bit 0x01 forced maintenance, 0x08 drain. */
  readonly admin: number;
  /** Connections the server has now (scur). */
  readonly connections: number;
}

export class Haproxy {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> | null = null;

  constructor(private readonly options: HaproxyOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The master's own command socket: a reload asked there is taken only by a master ready for it (a signal during a reload can be lost). */
  private get masterSocket(): string {
    return `${this.options.adminSocket}.master`;
  }

  /** The installed HAProxy's version, or an Unavailable naming what to install. */
  static async version(binary: string): Promise<string> {
    try {
      const { stdout } = await run(binary, ['-v']);
      return /version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
    } catch {
      throw new Unavailable(`'${binary}' did not run: install HAProxy (Debian: apt-get install haproxy; scripts/setup.sh does) or pass --haproxy PATH`);
    }
  }

  /** Writes `config` (checked first) where HAProxy reads it; throws InvalidArgument with HAProxy's complaint. */
  async write(config: string): Promise<void> {
    const next = `${this.options.configFile}.next`;
    writeFileSync(next, config);
    try {
      await run(this.options.binary, ['-c', '-q', '-f', next]);
    } catch (err) {
      const text = String((err as { stderr?: string }).stderr ?? err).trim();
      throw new InvalidArgument(`HAProxy refused the generated configuration (kept the previous one): ${text.split('\n').slice(0, 5).join(' | ')}`);
    }
    renameSync(next, this.options.configFile);
  }

  /** Starts HAProxy on the written file; resolves once the admin socket answers. */
  async start(): Promise<void> {
    const child = spawn(this.options.binary, ['-W', '-db', '-S', this.masterSocket, '-f', this.options.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const recent: string[] = [];
    const log = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l.trim() !== '')) {
        this.options.logger.info({ haproxy: true }, line);
        recent.push(line);
        if (recent.length > 5) recent.shift();
      }
    };
    child.stdout!.on('data', log);
    child.stderr!.on('data', log);
    const deadline = performance.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Unavailable(`HAProxy exited at start (code ${child.exitCode}): ${recent.join(' | ')}`);
      try {
        await runtimeCommand(this.options.adminSocket, 'show info', 1000);
        return;
      } catch {
        if (performance.now() > deadline) throw new Unavailable('HAProxy did not open its admin socket within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /**
   * A seamless reload of the written file: the master starts a new worker,
   * which takes the sockets over. Asked on the master's socket; done when the
   * master, ready again, counts one more reload (`show proc`), which it
   * answers only once it can take the next one.
   */
  async reload(): Promise<void> {
    if (!this.child?.pid || this.child.exitCode !== null) throw new Unavailable('HAProxy is not running');
    const before = await this.masterReloads();
    // The master re-executes itself to reload, which ends this connection without an answer.
    await runtimeCommand(this.masterSocket, 'reload', 15_000).catch(() => {});
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      const now = await this.masterReloads().catch(() => null);
      if (now && now.reloads > before.reloads) {
        if (now.failed > before.failed) throw new Unavailable('HAProxy failed to load the new configuration; the previous worker serves on');
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Unavailable('HAProxy did not complete a reload within 15 s');
  }

  /** The master's reload count and failed reloads, from its `show proc`. */
  private async masterReloads(): Promise<{ reloads: number; failed: number }> {
    const text = await runtimeCommand(this.masterSocket, 'show proc', 2000);
    const m = /^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/m.exec(text);
    if (!m) throw new Unavailable(`HAProxy's master answered 'show proc' with no master line: ${text.slice(0, 200)}`);
    return { reloads: Number(m[1]), failed: Number(m[2]) };
  }

  /** The serving worker's pid, from the admin socket (a reload changes it). */
  async workerPid(): Promise<number | null> {
    const info = await runtimeCommand(this.options.adminSocket, 'show info', 1000);
    const pid = /^Pid:\s*(\d+)/m.exec(info)?.[1];
    return pid === undefined ? null : Number(pid);
  }

  /** The servers of `backend` with their admin state and current connections. */
  async servers(backend: string): Promise<ServerState[]> {
    const state = await runtimeCommand(this.options.adminSocket, `show servers state ${backend}`);
    const stat = parseStatsCsv(await runtimeCommand(this.options.adminSocket, 'show stat'));
    const connections = new Map(stat.filter((row) => row.proxy === backend).map((row) => [row.name, row.sessions]));
    return state.split('\n')
      .filter((l) => l !== '' && !l.startsWith('#') && !/^\d+$/.test(l.trim()))
      .map((l) => l.split(' '))
      .map((c) => ({ name: c[3]!, address: c[4]!, admin: Number(c[6]), port: Number(c[18]), connections: connections.get(c[3]!) ?? 0 }));
  }

  /** Runs runtime API commands in order; throws on the first HAProxy refuses. */
  async command(...commands: string[]): Promise<void> {
    for (const command of commands) {
      const answer = (await runtimeCommand(this.options.adminSocket, command)).trim();
      // HAProxy answers success with a line such as "New server registered." or nothing; a refusal says why.
      if (/^(?:No such|Unknown|Error|Require|Already|.*cannot|.*not found|.*invalid|.*failed|.*not allowed)/i.test(answer)) {
        throw new Unavailable(`HAProxy refused '${command}': ${answer}`);
      }
    }
  }

  /** Stops HAProxy (SIGTERM to the master, which stops its workers) and waits for it. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
