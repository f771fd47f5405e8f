// A ZooKeeper server on this machine, for `mesos-ts local --masters N` and the
// tests: Debian's zookeeper package (its jars in /usr/share/java) run
// standalone on a loopback port with its own zoo.cfg and data dir, and a
// short tickTime so sessions can expire in about a second. stop() kills it by
// its recorded pid and removes the data dir; down()/up() stop and start it
// again on the same port with the same data (sessions that have not timed
// out meanwhile survive, as in a real ZooKeeper restart).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Unavailable } from '../errors.js';

export interface LocalZooKeeper {
  readonly port: number;
  /** address:port (127.0.0.1, or its host's address), what a client connects to. */
  readonly connectString: string;
  /** The server's zoo.cfg, data and logs; removed by stop(). */
  readonly dir: string;
  /** The JVM's pid, or null while down. */
  pid(): number | null;
  /** Kills the server and removes its data dir; safe to call twice, and after down(). */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL), keeping its port and data dir for up(). */
  down(): Promise<void>;
  /** Starts the server again on the same port with the same data; resolves once it answers `ruok`. */
  up(): Promise<void>;
  /** down(), `downMs` of silence, up(). The JVM's start-up adds a second or two to the outage. */
  restart(downMs: number): Promise<void>;
}

export interface LocalZooKeeperOptions {
  /** Default 200 ms: sessions may be as short as two ticks and at most twenty. */
  readonly tickTimeMs?: number;
  /**
   * The JVM's heap (-Xmx), default 256 MiB. ZooKeeper keeps its last 500 committed proposals in
   * memory (commitLogCount), so a heap must hold 500 of the largest writes (a registry multi is at
   * most 512 KiB) besides the data.
   */
  readonly heapMb?: number;
  /** Where to keep zoo.cfg and the data (created; removed by stop()). Default: a new dir under the system's tmpdir. */
  readonly dir?: string;
  /**
   * Run the server in a process group of its own, so that Ctrl-C in a
   * terminal (SIGINT to the whole foreground group) reaches only the
   * caller, which can then stop its masters and agents before ZooKeeper.
   * Default false: Ctrl-C of a test runner ends the server with it.
   */
  readonly ownProcessGroup?: boolean;
  /**
   * Run it on a simulated host (common/hosts/network.ts): bound to `address`
   * on port 2181, started through `prefix` (`nsenter --net=...`). Default:
   * 127.0.0.1 on a free port, in this namespace.
   */
  readonly host?: { readonly address: string; readonly prefix: readonly string[] };
  /**
   * Aborted while the server starts (Ctrl-C, SIGTERM): the server, already a process, is killed at once and the
   * start rejects, so that a caller that ends right after leaves nothing running.
   */
  readonly signal?: AbortSignal;
}

/** ZooKeeper's usual client port, taken on a simulated host (where every port is free). */
const HOST_PORT = 2181;

const START_TIMEOUT_MS = 30_000;
/** Debian's zookeeper package puts its jars (and their dependencies) here. */
const CLASSPATH = '/usr/share/java/*';

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

/** The answer to a four-letter command (`ruok`, `srvr`), or '' when the server does not answer within 2 s. */
export const fourLetter = (address: string, port: number, command: string) =>
  new Promise<string>((resolve) => {
    const socket = connect(port, address);
    let reply = '';
    socket.setTimeout(2000, () => (socket.destroy(), resolve('')));
    socket.once('connect', () => socket.write(command));
    socket.on('data', (d: Buffer) => (reply += d.toString()));
    socket.once('close', () => resolve(reply));
    socket.once('error', () => resolve(''));
  });

/** How to run one ZooKeeper server: standalone, or a member of an ensemble (test/harness/zk-ensemble.ts). */
export interface ServerLaunch {
  /** Holds zoo.cfg (written by the caller); the logs go here too. */
  readonly dir: string;
  readonly address: string;
  readonly port: number;
  /** ZooKeeperServerMain (standalone) or QuorumPeerMain (ensemble member). */
  readonly mainClass?: string;
  readonly ownProcessGroup?: boolean;
  /** A command prefix, e.g. `nsenter --net=...` to run it in another network namespace. */
  readonly prefix?: readonly string[];
  readonly heapMb?: number;
  /** Aborted before the server answers: it is SIGKILLed at once (in the abort itself) and the launch rejects. */
  readonly signal?: AbortSignal;
}

/**
 * Runs the server until it answers `ruok` (an ensemble member answers once
 * running, before it has a quorum); throws (after killing it) if it does not within 30 s.
 */
export async function launchZooKeeper(l: ServerLaunch): Promise<ChildProcess> {
  const { dir, address, port } = l;
  const java = ['java', `-Xmx${l.heapMb ?? 256}m`, '-Dzookeeper.log.dir=' + dir, '-cp', CLASSPATH, l.mainClass ?? 'org.apache.zookeeper.server.ZooKeeperServerMain', join(dir, 'zoo.cfg')];
  const [command, ...args] = [...(l.prefix ?? []), ...java];
  l.signal?.throwIfAborted();
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: l.ownProcessGroup ?? false });
  // Synchronously in the abort: a caller that exits right after it must not leave the JVM behind.
  const onAbort = () => child.kill('SIGKILL');
  l.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await untilAnswering(child, address, port, l.signal);
  } finally {
    l.signal?.removeEventListener('abort', onAbort);
  }
  return child;
}

async function untilAnswering(child: ChildProcess, address: string, port: number, signal?: AbortSignal): Promise<void> {
  let stderr = '';
  let spawnError: Error | null = null;
  child.once('error', (err) => (spawnError = err));
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while ((await fourLetter(address, port, 'ruok')) !== 'imok') {
    if (signal?.aborted) throw signal.reason;
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const why = spawnError ? `cannot run java: ${(spawnError as Error).message}` : stderr.trim() || 'no output';
      throw new Unavailable(
        `ZooKeeper did not start on ${address}:${port} (${why}); it needs Java and Debian's zookeeper package (bash scripts/setup.sh installs them)`,
      );
    }
    await sleep(100);
  }
}

/** SIGKILL, resolving once it has exited. */
export async function killZooKeeper(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export async function startLocalZooKeeper(opts: LocalZooKeeperOptions = {}): Promise<LocalZooKeeper> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'mesos-ts-zk-'));
  mkdirSync(dir, { recursive: true });
  const address = opts.host?.address ?? '127.0.0.1';
  const port = opts.host ? HOST_PORT : await freePort();
  const launch = {
    dir, address, port, ownProcessGroup: opts.ownProcessGroup ?? false, ...(opts.host ? { prefix: opts.host.prefix } : {}),
    ...(opts.heapMb !== undefined ? { heapMb: opts.heapMb } : {}), signal: opts.signal,
  };
  const tick = opts.tickTimeMs ?? 200;
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [`tickTime=${tick}`, `dataDir=${dir}/data`, `clientPort=${port}`, `clientPortAddress=${address}`, `minSessionTimeout=${tick * 2}`,
      'maxClientCnxns=0', 'admin.enableServer=false', '4lw.commands.whitelist=ruok,stat'].join('\n') + '\n',
  );
  let child: ChildProcess | null = null;
  let removed = false;
  const remove = () => {
    removed = true;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    child = await launchZooKeeper(launch);
  } catch (err) {
    remove();
    throw err;
  }
  const down = async () => {
    await killZooKeeper(child);
    child = null;
  };
  const up = async () => {
    if (removed) throw new Error(`ZooKeeper on port ${port} was stopped for good`);
    if (child) return;
    child = await launchZooKeeper(launch);
  };
  return {
    port,
    connectString: `${address}:${port}`,
    dir,
    pid: () => child?.pid ?? null,
    down,
    up,
    async restart(downMs) {
      await down();
      await sleep(downMs);
      await up();
    },
    async stop() {
      await down();
      remove();
    },
  };
}
