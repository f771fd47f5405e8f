// Failover with real processes: three masters and two agents run as
// `mesos-ts` child processes against a real ZooKeeper, a scheduler in this
// process follows the leader through ZooKeeper, and its tasks run in real
// containers. The leader is killed (SIGKILL), frozen past its session
// timeout (SIGSTOP, then SIGCONT), and ZooKeeper itself restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { ProcessGroup, leaderOf, type MasterProc } from '../harness/processes.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';
import { Scheduler, dockerTask, silentLogger, type SchedulerEvent } from '../../framework/sdk/index.js';
import { Resources } from '../../common/resources.js';
import type { TaskStatusOut } from '../../proto/index.js';

// Long enough that ZooKeeper's brief restart (a JVM starting again, slow while
// another test file runs beside this one) stays well inside every session: a
// fresh-clone CI run saw the restart outlast a 10 s session, and the leader
// rightly stepped down ("no contact with ZooKeeper for 10000 ms").
const SESSION_TIMEOUT_S = 20;
const TASKS = 4;
let zk: TestZooKeeper;
let group: ProcessGroup;
let zkUrl: string;
const masters: MasterProc[] = [];
let scheduler: Scheduler;
const updates: TaskStatusOut[] = [];
const offersSeen: number[] = []; // Arrival times of OFFERS events.

interface MasterState {
  slaves: { id: string; active: boolean }[];
  frameworks: { id: string; active: boolean; tasks: { id: string; state: string; agent_id: string }[] }[];
}

async function state(m: MasterProc): Promise<MasterState> {
  const res = await fetch(`http://${m.httpAddress}/state`, { redirect: 'manual' });
  if (res.status !== 200) throw new Error(`${m.name} answered /state with ${res.status}`);
  return (await res.json()) as MasterState;
}

async function currentLeader(exclude: MasterProc[] = []): Promise<MasterProc> {
  let found: MasterProc | null = null;
  await waitUntil(async () => {
    found = await leaderOf(masters.filter((m) => !exclude.includes(m)));
    return found !== null;
  }, (SESSION_TIMEOUT_S + 20) * 1000, 'a leading master'); // A successor waits out its predecessor's session.
  return found!;
}

/** The leader lists both agents as active and the framework as connected, with every task RUNNING. */
async function settledOn(m: MasterProc): Promise<void> {
  let seen = 'no answer to /state yet';
  await waitUntil(async () => {
    const s = await state(m).catch((err: unknown) => ((seen = `/state failed: ${String(err)}`), null));
    if (!s) return false;
    const fw = s.frameworks.find((f) => f.id === scheduler.frameworkId);
    const running = fw?.tasks.filter((t) => t.state === 'TASK_RUNNING').length ?? 0;
    seen = `${s.slaves.filter((a) => a.active).length} agents active, framework ${fw ? (fw.active ? 'active' : 'inactive') : 'absent'}, ${running} tasks RUNNING`;
    return s.slaves.filter((a) => a.active).length === 2 && fw?.active === true && running === TASKS;
  }, 30_000, `${m.name} to have both agents, the framework and its ${TASKS} running tasks`).catch((err: unknown) => {
    // Which of the three it lacked, and the end of its log: a failure here is otherwise hard to read back.
    throw new Error(`${String(err)} (last seen: ${seen}); ${m.name}'s last lines:\n${m.lines.slice(-25).join('\n')}`);
  });
  // The master counts the framework connected once SUBSCRIBED is on its way; the scheduler, once it arrived.
  await waitUntil(() => scheduler.state === 'subscribed', 10_000, 'the scheduler to have its SUBSCRIBED');
}

async function runningTaskContainers(): Promise<string[]> {
  const all = await new Docker().listContainers({ filters: { label: ['mesos-ts.work_dir'] } });
  return all.filter((c) => (c.Labels['mesos-ts.work_dir'] ?? '').startsWith(group.dir)).map((c) => c.Labels['mesos-ts.task_id'] ?? '?');
}

/** Reconciles and waits until every task is reported RUNNING by the master (REASON_RECONCILIATION). */
async function reconcileAllRunning(): Promise<void> {
  const from = updates.length;
  await scheduler.reconcile();
  await waitUntil(() => {
    const answers = updates.slice(from).filter((u) => u.reason === 'REASON_RECONCILIATION');
    return new Set(answers.filter((u) => u.state === 'TASK_RUNNING').map((u) => u.task_id!.value)).size === TASKS;
  }, 15_000, `reconciliation to report ${TASKS} tasks RUNNING`);
  expect(updates.slice(from).filter((u) => u.state !== 'TASK_RUNNING')).toEqual([]);
}

/**
 * A leader without an answer from ZooKeeper for two thirds of its session timeout refuses calls (UNAVAILABLE) until
 * it has one: a DECLINE refused meanwhile is sent again, or the offer's resources would stay offered.
 */
async function declineUntilDone(offer: Parameters<Scheduler['decline']>[0]): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if (await scheduler.decline(offer, { refuseSeconds: 0.5 }).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  zk = await startZooKeeper();
  zkUrl = `zk://${zk.connectString}/mesos-ts-procs`;
  group = new ProcessGroup();
  const flags = [`--zk=${zkUrl}`, `--zk_session_timeout=${SESSION_TIMEOUT_S}s`, '--allocation_interval=0.2s'];
  masters.push(...(await Promise.all([1, 2, 3].map((i) => group.spawnMaster(`master-${i}`, flags)))));
  await Promise.all([1, 2].map((i) => group.spawnAgent(`agent-${i}`, [
    `--master=${zkUrl}`, `--resources=cpus:1;mem:512;disk:100;ports:[${31800 + i * 10}-${31809 + i * 10}]`,
  ])));

  scheduler = new Scheduler({
    master: zkUrl, framework: { name: 'failover-test', failoverTimeoutSeconds: 120 }, logger: silentLogger,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
  });
  let launched = 0;
  scheduler.on('update', (e: Extract<SchedulerEvent, { type: 'update' }>) => updates.push(e.status));
  scheduler.on('offers', (e: Extract<SchedulerEvent, { type: 'offers' }>) => {
    offersSeen.push(Date.now());
    for (const offer of e.offers) {
      // Two tasks on each agent, then nothing more: decline for a short while so offers keep coming.
      const onAgent = Math.min(2, TASKS - launched);
      if (onAgent > 0 && launched < TASKS) {
        const tasks = Array.from({ length: onAgent }, () => dockerTask({
          taskId: `sleeper-${++launched}`, agentId: offer.agent_id!.value, resources: Resources.parse('cpus:0.1;mem:32'),
          image: TEST_IMAGE, command: 'sleep 3600',
        }));
        void scheduler.launch(offer, tasks, { refuseSeconds: 0 }).catch(() => {});
      } else {
        void declineUntilDone(offer);
      }
    }
  });
  await scheduler.start();
  await settledOn(await currentLeader());
}, 120_000);

afterAll(async () => {
  await scheduler?.close();
  await group?.stopAll();
  await zk?.stop();
}, 60_000);

describe('failover with real processes', () => {
  it('3 masters elect exactly one leader; the others redirect to it', async () => {
    const leader = await currentLeader();
    for (const m of masters.filter((x) => x !== leader)) {
      const res = await fetch(`http://${m.httpAddress}/state`, { redirect: 'manual' });
      expect(res.status).toBe(307);
      expect(res.headers.get('location')).toBe(`//${leader.httpAddress}/state`);
    }
    expect((await runningTaskContainers()).sort()).toEqual(['sleeper-1', 'sleeper-2', 'sleeper-3', 'sleeper-4']);
  });

  it('SIGKILL of the leader: a standby takes over, agents and the framework follow, every task still RUNNING, none lost or duplicated', async () => {
    const old = await currentLeader();
    old.signal('SIGKILL');
    expect((await old.exited).signal).toBe('SIGKILL');
    const next = await currentLeader([old]);
    expect(next).not.toBe(old);
    await settledOn(next);
    await reconcileAllRunning();
    const offersBefore = offersSeen.length;
    await waitUntil(() => offersSeen.length > offersBefore, 10_000, 'offers from the new leader');
    expect((await runningTaskContainers()).sort()).toEqual(['sleeper-1', 'sleeper-2', 'sleeper-3', 'sleeper-4']);
    expect(updates.filter((u) => !['TASK_STARTING', 'TASK_RUNNING'].includes(u.state))).toEqual([]);
  });

  it('SIGSTOP of the leader past its session timeout: another leads; after SIGCONT the old one never acts again and exits', async () => {
    const frozen = await currentLeader();
    frozen.signal('SIGSTOP');
    const next = await currentLeader([frozen]);
    await settledOn(next);
    await new Promise((r) => setTimeout(r, SESSION_TIMEOUT_S * 1000)); // Well past its session's end.
    const resumedAt = frozen.lines.length;
    frozen.signal('SIGCONT');
    expect((await frozen.exited).code).toBe(1);
    const after = frozen.lines.slice(resumedAt);
    expect(after.join('\n')).toMatch(/no longer leading/);
    // Nothing a leader does: no registration, subscription, offer or launch after it resumed.
    expect(after.filter((l) => /registered|subscribed|launch|elected|leading;/.test(l))).toEqual([]);
    expect(await leaderOf(masters)).toBe(next);
    await reconcileAllRunning();
  });

  it('ZooKeeper restarting briefly changes nothing: the same leader, agents, framework and tasks', async () => {
    const leader = await currentLeader();
    await zk.restart(500);
    await settledOn(leader);
    expect(await leaderOf(masters)).toBe(leader);
    expect(leader.alive()).toBe(true);
    await reconcileAllRunning();
    const offersBefore = offersSeen.length;
    await waitUntil(() => offersSeen.length > offersBefore, 10_000, 'offers after the ZooKeeper restart');
  });
});
