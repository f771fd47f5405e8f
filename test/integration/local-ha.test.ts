// `mesos-ts local --masters 3` as a real process (node bin/mesos-ts.js), as a
// newcomer runs it: ZooKeeper, three masters electing a leader, two agents
// and the demo. With --kill_leader_after the output must name the leader,
// say it was killed and that another took over, and end with every demo task
// FINISHED and the clean-up line; Ctrl-C (to the whole process group, as a
// terminal sends it) must clean up as well, and so must a master that cannot
// take its port. Afterwards no task container, ZooKeeper process, ZooKeeper
// data dir or master is left. After a kill -9 of a run, the next run removes
// what it left: ZooKeeper, the task containers and the run's directory.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { containersUnder, removeContainersUnder } from '../harness/cluster.js';
import { ProcessGroup, type Proc } from '../harness/processes.js';
import { alive } from '../../common/hosts/engine-leftovers.js';

const RUN_TIMEOUT_MS = 90_000;
let group: ProcessGroup | null = null;
let current: Proc | null = null;

/** `mesos-ts local ARGS` as a process. */
function local(args: string[]): Proc {
  group = new ProcessGroup();
  current = group.spawnCommand('local', ['local', ...args], { ownProcessGroup: true });
  return current;
}

/** Everything it printed, without colours. */
const output = (run: Proc) => run.lines.join('\n').replace(/\x1b\[[0-9;]*m/g, '');

afterEach(async () => {
  // A failed test may leave its run going: SIGTERM makes it clean up as Ctrl-C does (SIGKILL after 5 s).
  await group?.stopAll();
  // Had it no time to, its ZooKeeper goes by the pid it printed, with its dir.
  const zk = current && /ZooKeeper up on \S+ \(pid (\d+), data in (\S+)\)/.exec(output(current));
  if (zk && alive(Number(zk[1]))) process.kill(Number(zk[1]), 'SIGKILL');
  if (zk) rmSync(dirname(zk[2]!), { recursive: true, force: true });
  group = null;
  current = null;
});

/** `what` is read when the time is up (a run's output by then, say). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${typeof what === 'string' ? what : what()}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Alive and not a zombie (a killed orphan waits for PID 1 to reap it). */
function running(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

const answers = (address: string) =>
  new Promise<boolean>((resolve) => {
    const [host, port] = address.split(':');
    const socket = connect(Number(port), host!);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/** What the run started, read from its output: ZooKeeper's pid and data dir, and every master's addresses. */
function started(text: string) {
  const zk = /ZooKeeper up on \S+ \(pid (\d+), data in (\S+)\)/.exec(text);
  expect(zk, text).not.toBeNull();
  const masters = [...text.matchAll(/master-\d up: gRPC (\S+), HTTP http:\/\/(\S+)/g)].flatMap((m) => [m[1]!, m[2]!]);
  return { zkPid: Number(zk![1]), zkDir: zk![2]!, base: dirname(zk![2]!), masters };
}

async function nothingLeft(text: string): Promise<void> {
  const { zkPid, zkDir, base, masters } = started(text);
  expect(alive(zkPid), 'the ZooKeeper process').toBe(false);
  expect(existsSync(zkDir), `ZooKeeper's data dir ${zkDir}`).toBe(false);
  expect(existsSync(base), `the run's dir ${base}`).toBe(false);
  expect(await containersUnder(base)).toEqual([]);
  expect(masters).toHaveLength(6);
  for (const address of masters) expect(await answers(address), `a master still listens on ${address}`).toBe(false);
}

describe('mesos-ts local --masters 3', () => {
  it('names the leader, kills it while the demo runs, follows the new one, and every task still finishes', async () => {
    const run = local(['--masters', '3', '--kill_leader_after', '3', '--tasks', '6', '--port', '0', '--grpc_port', '0']);
    await run.waitForLine(/clean: |warning: /, RUN_TIMEOUT_MS);
    const { code } = await run.exited;
    const text = output(run);
    expect(code, text).toBe(0);
    const first = /(master-\d) leads: web UI at http:\/\/127\.0\.0\.1:\d+\/, state at \S+\/master\/state; (master-\d) and (master-\d) stand by/.exec(text);
    expect(first, text).not.toBeNull();
    const leader = first![1]!;
    expect(text).toContain(`killing the leader, ${leader}: its ZooKeeper session closes and its connections drop`);
    const next = /(master-\d) leads \([\d.]+ s after the kill\): web UI at http:\/\/127\.0\.0\.1:\d+\//.exec(text);
    expect(next, text).not.toBeNull();
    expect(next![1]).not.toBe(leader);
    expect([first![2], first![3]]).toContain(next![1]);
    expect(text).toMatch(new RegExp(`${next![1]}: 2 of 2 agents re-registered`));
    expect(text).toMatch(/reconnected as \S+; reconciling \d+ task/); // The demo, through the SDK.
    // The kill came while the demo ran: after it, tasks still finished.
    expect(text.slice(text.indexOf('killing the leader'))).toMatch(/task demo-\d FINISHED/);
    const lines = text.trimEnd().split('\n');
    expect(lines.at(-3)).toContain('all 6 tasks FINISHED');
    expect(lines.at(-1)).toContain('clean: no container or process left behind');
    await nothingLeft(text);
  }, RUN_TIMEOUT_MS + 10_000);

  it('cleans up on Ctrl-C: tasks killed, masters, agents and ZooKeeper stopped', async () => {
    const run = local(['--masters', '3', '--tasks', '6', '--port', '0', '--grpc_port', '0']);
    await run.waitForLine(/task demo-\d RUNNING/, 60_000);
    // As a terminal sends it: to the whole process group. ZooKeeper, in a group of its own, must outlive the clean-up.
    process.kill(-run.pid, 'SIGINT');
    // An impatient second Ctrl-C during the clean-up does not cut it short.
    await run.waitForLine(/stopping agents/, 30_000);
    process.kill(-run.pid, 'SIGINT');
    const { code } = await withTimeout(run.exited, 60_000, () => `mesos-ts local exits after Ctrl-C; it printed:\n${output(run)}`);
    const text = output(run);
    expect(code, text).toBe(1);
    expect(text).toContain('interrupted: killing the tasks and shutting down');
    expect(text).toContain('still stopping the cluster: wait for the clean-up line');
    expect(text).not.toContain('no contact with ZooKeeper');
    expect(text.trimEnd().split('\n').at(-1)).toContain('clean: no container or process left behind');
    await nothingLeft(text);
  }, 90_000);

  it('a master whose port is taken: named with the flags to change, everything started so far stopped, and the command exits', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      const run = local(['--masters', '3', '--port', String(busy), '--grpc_port', '0']);
      await run.waitForLine(/clean: |warning: /, 60_000);
      const { code } = await withTimeout(run.exited, 10_000, 'mesos-ts local exits after its clean-up line');
      const text = output(run);
      expect(code, text).toBe(1);
      expect(text).toContain(`failed: master-1 (HTTP port ${busy}, gRPC port 0) did not start: listen EADDRINUSE`);
      expect(text).toContain('--port and --grpc_port choose other ports');
      expect(text.trimEnd().split('\n').at(-1)).toContain('clean: no container or process left behind');
      const zk = /ZooKeeper up on \S+ \(pid (\d+), data in (\S+)\)/.exec(text);
      expect(alive(Number(zk![1]))).toBe(false);
      expect(existsSync(zk![2]!)).toBe(false);
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('after a kill -9, the next run removes what it left: ZooKeeper, the task containers and the run\'s directory', async () => {
    const killed = local(['--masters', '2', '--agents', '1', '--tasks', '4', '--port', '0', '--grpc_port', '0']);
    await killed.waitForLine(/task demo-\d RUNNING/, 60_000);
    process.kill(killed.pid, 'SIGKILL');
    await killed.exited;
    const { zkPid, base } = started(output(killed));
    try {
      expect(running(zkPid), 'ZooKeeper outlives the run').toBe(true);
      expect((await containersUnder(base)).length).toBeGreaterThan(0);
      const next = local(['--agents', '1', '--tasks', '1', '--port', '0', '--grpc_port', '0']);
      const { code } = await next.exited;
      const text = output(next);
      expect(code, text).toBe(0);
      expect(text).toMatch(new RegExp(`removed what \\d+ earlier run\\(s\\) killed before their clean-up left: .*${base}`));
      expect(running(zkPid), 'the killed run\'s ZooKeeper').toBe(false);
      expect(await containersUnder(base)).toEqual([]);
      expect(existsSync(base)).toBe(false);
    } finally {
      if (running(zkPid)) process.kill(zkPid, 'SIGKILL');
      await removeContainersUnder(base);
      rmSync(base, { recursive: true, force: true });
    }
  }, 150_000);

  it('refuses --kill_leader_after without a standby, before starting anything', async () => {
    const run = local(['--kill_leader_after', '3']);
    expect((await run.exited).code).toBe(2);
    expect(output(run)).toContain('--kill_leader_after needs --masters 2 or more');
  });
});
