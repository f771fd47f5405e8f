// A real ZooKeeper server for tests: Debian's zookeeper package run
// standalone on a free loopback port, with a short tickTime so sessions can
// expire in about a second. stop() kills it by its recorded pid.
// down()/up() stop and start the server again on the same port with the same
// data dir (sessions that have not timed out meanwhile survive, as in a real
// ZooKeeper restart).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TestZooKeeper {
  readonly port: number;
  readonly connectString: string;
  /** Kills the server and removes its data dir; safe to call twice, and after down(). */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL), keeping its port and data dir for up(). */
  down(): Promise<void>;
  /** Starts the server again on the same port with the same data; resolves once it answers `ruok`. */
  up(): Promise<void>;
  /** down(), `downMs` of silence, up(). The JVM's start-up adds a second or two to the outage. */
  restart(downMs: number): Promise<void>;
}

/** A port that was free on 127.0.0.1 a moment ago (another process may take it meanwhile). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Ready means serving: the four-letter command `ruok` is answered `imok`. */
const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => socket.write('ruok'));
    socket.on('data', (d: Buffer) => (reply += d.toString()));
    socket.once('close', () => resolve(reply === 'imok'));
    socket.once('error', () => resolve(false));
  });

/** Runs the server until it answers; throws (after killing it) if it does not within 30 s. */
async function launch(dir: string, port: number): Promise<ChildProcess> {
  const child: ChildProcess = spawn(
    'java',
    ['-Xmx256m', '-Dzookeeper.log.dir=' + dir, '-cp', '/usr/share/java/*', 'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ZooKeeper did not start on port ${port}: ${stderr}`);
    }
    await sleep(100);
  }
  return child;
}

async function kill(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export async function startZooKeeper(opts: { tickTimeMs?: number } = {}): Promise<TestZooKeeper> {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-zk-'));
  const port = await freePort();
  const tick = opts.tickTimeMs ?? 200;
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [`tickTime=${tick}`, `dataDir=${dir}/data`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', `minSessionTimeout=${tick * 2}`,
      'maxClientCnxns=0', 'admin.enableServer=false', '4lw.commands.whitelist=ruok,stat'].join('\n') + '\n',
  );
  let child: ChildProcess | null = await launch(dir, port);
  let removed = false;
  const down = async () => {
    await kill(child);
    child = null;
  };
  const up = async () => {
    if (removed) throw new Error(`ZooKeeper on port ${port} was stopped for good`);
    if (child) return;
    child = await launch(dir, port);
  };
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    down,
    up,
    async restart(downMs) {
      await down();
      await sleep(downMs);
      await up();
    },
    async stop() {
      await down();
      removed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
