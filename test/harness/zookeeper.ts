// A real ZooKeeper server for tests: Debian's zookeeper package run
// standalone on a free loopback port, with a short tickTime so sessions can
// expire in about a second. stop() kills it by its recorded pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestZooKeeper {
  readonly port: number;
  readonly connectString: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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

export async function startZooKeeper(opts: { tickTimeMs?: number } = {}): Promise<TestZooKeeper> {
  const dir = mkdtempSync(join(tmpdir(), 'mesos-ts-zk-'));
  const port = await freePort();
  const tick = opts.tickTimeMs ?? 200;
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [`tickTime=${tick}`, `dataDir=${dir}/data`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', `minSessionTimeout=${tick * 2}`,
      'maxClientCnxns=0', 'admin.enableServer=false', '4lw.commands.whitelist=ruok,stat'].join('\n') + '\n',
  );
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
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    connectString: `127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
