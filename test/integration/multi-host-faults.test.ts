// Faults on a cluster of simulated hosts (test/harness/host-cluster.ts):
// three ZooKeeper members, three masters and three agents, each on a network
// namespace of its own, real processes, real gRPC, real task containers on
// the shared Docker engine. Partitions are iptables DROP rules inside the
// hosts (test/harness/faults.ts). One cluster for the file, in this order:
//   1. an agent cut off from the masters: UNREACHABLE, healed in time RUNNING;
//      cut off past --registry_max_agent_age: GONE, and shut down when it returns;
//   2. the leader cut off from ZooKeeper steps down before another leads: no
//      two leaders ever accept calls at once, from the masters' own logs;
//   3. one ZooKeeper member down changes nothing; two down pause the cluster,
//      which resumes with every task when the quorum is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { HostCluster, overlaps } from '../harness/host-cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { TEST_IMAGE } from '../harness/grpc-scheduler.js';
import type { AgentProc, MasterProc } from '../harness/processes.js';
import type { Host } from '../harness/hosts.js';
import { Scheduler, dockerTask, silentLogger, type SchedulerEvent } from '../../framework/sdk/index.js';
import { Resources } from '../../common/resources.js';
import type { TaskStatusOut } from '../../proto/index.js';

// Short enough for quick failovers, long enough that a loaded machine does not end sessions by itself.
const SESSION_S = 4;
const GONE_S = 12;
let cluster: HostCluster;
let framework: TestFramework;

/** A partition-aware framework following the leader through ZooKeeper; it launches what it is asked to, on the agent asked for. */
class TestFramework {
  readonly scheduler: Scheduler;
  readonly updates: TaskStatusOut[] = [];
  private readonly wanted = new Map<string, string>();

  constructor(zkUrl: string) {
    this.scheduler = new Scheduler({
      master: zkUrl, framework: { name: 'multi-host', failoverTimeoutSeconds: 600, capabilities: ['PARTITION_AWARE'] }, logger: silentLogger,
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    this.scheduler.on('update', (e: Extract<SchedulerEvent, { type: 'update' }>) => this.updates.push(e.status));
    this.scheduler.on('offers', (e: Extract<SchedulerEvent, { type: 'offers' }>) => {
      for (const offer of e.offers) {
        const here = [...this.wanted].filter(([, agentId]) => agentId === offer.agent_id!.value).map(([taskId]) => taskId);
        if (here.length === 0) {
          void this.scheduler.decline(offer, { refuseSeconds: 1 }).catch(() => {});
          continue;
        }
        for (const t of here) this.wanted.delete(t);
        const tasks = here.map((taskId) => dockerTask({ taskId, agentId: offer.agent_id!.value, resources: Resources.parse('cpus:0.1;mem:32'), image: TEST_IMAGE, command: 'sleep 3600' }));
        // A launch lost to a failover is asked for again.
        void this.scheduler.launch(offer, tasks, { refuseSeconds: 0 }).catch(() => here.forEach((t) => this.wanted.set(t, offer.agent_id!.value)));
      }
    });
  }

  launch(taskId: string, agentId: string): void {
    this.wanted.set(taskId, agentId);
  }

  states(taskId: string): string[] {
    return this.updates.filter((u) => u.task_id?.value === taskId).map((u) => u.state);
  }

  async waitFor(taskId: string, state: string, ms = 60_000, from = 0): Promise<TaskStatusOut> {
    let found: TaskStatusOut | undefined;
    await waitUntil(() => (found = this.updates.slice(from).find((u) => u.task_id?.value === taskId && u.state === state)) !== undefined, ms,
      `${taskId} to be ${state} (seen: ${this.states(taskId).join(', ')})`);
    return found!;
  }

  /** Reconciles every task until the leader answers for each of `taskIds` with `state`. */
  async reconciled(taskIds: readonly string[], state: string): Promise<void> {
    await waitUntil(async () => {
      const from = this.updates.length;
      await this.scheduler.reconcile().catch(() => {});
      await new Promise((r) => setTimeout(r, 500)); // The answers' window; the check is repeated until they all came.
      const answers = this.updates.slice(from).filter((u) => u.reason === 'REASON_RECONCILIATION');
      return taskIds.every((id) => answers.some((u) => u.task_id?.value === id && u.state === state));
    }, 60_000, `reconciliation to report ${taskIds.join(', ')} ${state}`);
  }
}

async function agentId(a: AgentProc): Promise<string> {
  let id = '';
  await waitUntil(async () => {
    const state = (await (await fetch(`http://${a.httpAddress}/state`)).json().catch(() => ({}))) as { id?: string };
    return (id = state.id ?? '') !== '';
  }, 60_000, `agent ${a.name} to register`);
  return id;
}

async function containersOf(a: AgentProc): Promise<string[]> {
  const all = await new Docker().listContainers({ filters: { label: [`mesos-ts.work_dir=${a.workDir}`] } });
  return all.map((c) => c.Labels['mesos-ts.task_id'] ?? '?').sort();
}

const cutOff = async (host: Host, from: readonly Host[]) => {
  for (const h of from) await cluster.faults.partition(host, h);
};

beforeAll(async () => {
  cluster = await HostCluster.start({
    sessionTimeoutS: SESSION_S,
    masterFlags: ['--agent_ping_timeout=0.5s', '--max_agent_ping_timeouts=3', `--registry_max_agent_age=${GONE_S}s`],
  });
  await cluster.leader();
  framework = new TestFramework(cluster.zkUrl);
  await framework.scheduler.start();
}, 180_000);

afterAll(async () => {
  await framework?.scheduler.close();
  await cluster?.stop();
}, 60_000);

describe('an agent partitioned from the masters', () => {
  it('goes UNREACHABLE with its task; healed within the gone timeout, the task is RUNNING again', async () => {
    const a3 = cluster.agents[2]!;
    framework.launch('stray-1', await agentId(a3));
    await framework.waitFor('stray-1', 'TASK_RUNNING');
    const from = framework.updates.length;
    await cutOff(cluster.agentHosts[2]!, cluster.masterHosts);
    const unreachable = await framework.waitFor('stray-1', 'TASK_UNREACHABLE', 30_000, from);
    expect(unreachable.reason).toBe('REASON_AGENT_REMOVED');
    await cluster.faults.heal();
    const back = await framework.waitFor('stray-1', 'TASK_RUNNING', 30_000, framework.updates.indexOf(unreachable));
    expect(back.reason).toBe('REASON_AGENT_REREGISTERED');
    expect(await containersOf(a3)).toEqual(['stray-1']);
  }, 120_000);

  it('partitioned past the gone timeout: the task is GONE, and when the agent returns it is shut down and the container killed', async () => {
    const a3 = cluster.agents[2]!;
    const from = framework.updates.length;
    await cutOff(cluster.agentHosts[2]!, cluster.masterHosts);
    await framework.waitFor('stray-1', 'TASK_UNREACHABLE', 30_000, from);
    const gone = await framework.waitFor('stray-1', 'TASK_GONE', 60_000, from);
    expect(gone.message).toMatch(/is gone/);
    // Cut off, the agent does not know: its container still runs.
    expect(await containersOf(a3)).toEqual(['stray-1']);
    await cluster.faults.heal();
    await waitUntil(async () => (await containersOf(a3)).length === 0, 60_000, 'the gone agent\'s container to be killed');
    await a3.waitForLine(/the master shuts this agent down/, 30_000);
    // Nothing after GONE: the task does not come back.
    expect(framework.states('stray-1').at(-1)).toBe('TASK_GONE');
  }, 180_000);
});

describe('the leader partitioned from ZooKeeper', () => {
  it('stops accepting calls before another master leads: no two leaders ever accept a call at the same time', async () => {
    const [a1, a2] = [await agentId(cluster.agents[0]!), await agentId(cluster.agents[1]!)];
    framework.launch('steady-1', a1);
    framework.launch('steady-2', a2);
    await framework.waitFor('steady-1', 'TASK_RUNNING');
    await framework.waitFor('steady-2', 'TASK_RUNNING');
    const old = await cluster.leader();
    // Calls at every master all along, as a scheduler that has not yet heard of a new leader would make.
    let pumping = true;
    const pump = (async () => {
      while (pumping) {
        await Promise.all(cluster.masters.map((m) => fetch(`http://${m.httpAddress}/api/v1`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"GET_HEALTH"}', redirect: 'manual', signal: AbortSignal.timeout(2000),
        }).then((r) => r.body?.cancel(), () => {})));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await cutOff(cluster.hostOf(old), cluster.zkHosts);
      const next = await cluster.leader(cluster.masters.filter((m) => m !== old));
      // The old leader's session ends (no answer from ZooKeeper for a whole timeout) and it exits.
      expect((await old.exited).code).toBe(1);
      expect(old.lines.join('\n')).toMatch(/no longer leading/);
      await waitUntil(() => cluster.acceptedCalls().some((c) => c.master === next.name), 30_000, 'the new leader to accept calls');
    } finally {
      pumping = false;
      await pump;
      await cluster.faults.heal();
    }
    const intervals = cluster.leaderIntervals();
    expect(intervals.length).toBeGreaterThanOrEqual(2);
    expect(overlaps(intervals)).toEqual([]);
    const oldTerms = intervals.filter((i) => i.master === old.name);
    const newTerms = intervals.filter((i) => i.master !== old.name && i.firstMs > oldTerms[0]!.firstMs);
    expect(Math.max(...oldTerms.map((i) => i.lastMs))).toBeLessThan(Math.min(...newTerms.map((i) => i.firstMs)));
    expect(Math.min(...newTerms.map((i) => i.term))).toBeGreaterThan(Math.max(...oldTerms.map((i) => i.term)));
    await cluster.restartMasters();
    await framework.reconciled(['steady-1', 'steady-2'], 'TASK_RUNNING');
    expect(framework.states('steady-1').filter((s) => s !== 'TASK_STARTING' && s !== 'TASK_RUNNING')).toEqual([]);
  }, 180_000);
});

describe('ZooKeeper members lost', () => {
  it('one member down: tasks still launch and the leader stays', async () => {
    const leader = await cluster.leader();
    const term = cluster.acceptedCalls().filter((c) => c.master === leader.name).at(-1)!.term;
    const zkLeader = (await Promise.all(cluster.zk.members.map(async (m) => ((await m.mode()) === 'leader' ? m : null)))).find((m) => m)!;
    await zkLeader.down();
    framework.launch('during-one-down', await agentId(cluster.agents[0]!));
    await framework.waitFor('during-one-down', 'TASK_RUNNING');
    expect(await cluster.leader()).toBe(leader);
    expect(leader.alive()).toBe(true);
    expect(cluster.acceptedCalls().filter((c) => c.master === leader.name).at(-1)!.term).toBe(term);
    await zkLeader.up();
    await cluster.zk.waitServing(60_000, true);
  }, 120_000);

  it('two members down: no master acts until the quorum is back; then the cluster resumes with every task', async () => {
    const down = cluster.zk.members.slice(0, 2);
    const lost: MasterProc = await cluster.leader();
    await Promise.all(down.map((m) => m.down()));
    // Without a quorum no session lives: the leader stops (first it stops accepting calls) and exits; the
    // standbys, which never acted, contend again on new sessions (as Mesos's do) until the quorum is back.
    await lost.exited;
    expect(cluster.masters.filter((m) => m !== lost).map((m) => m.alive())).toEqual([true, true]);
    const lastAccepted = Math.max(...cluster.acceptedCalls().map((c) => c.atMs));
    const containersBefore = (await Promise.all(cluster.agents.slice(0, 2).map(containersOf))).flat().sort();
    expect(containersBefore).toEqual(['during-one-down', 'steady-1', 'steady-2']);

    await Promise.all(down.map((m) => m.up()));
    await cluster.zk.waitServing();
    await cluster.restartMasters();
    const leader = await cluster.leader();
    await framework.reconciled(['steady-1', 'steady-2', 'during-one-down'], 'TASK_RUNNING');
    // The first call any master accepted after the outage came from the new leader, after every earlier one.
    const after = cluster.acceptedCalls().filter((c) => c.atMs > lastAccepted);
    expect(new Set(after.map((c) => c.master))).toEqual(new Set([leader.name]));
    expect(overlaps(cluster.leaderIntervals())).toEqual([]);
    expect((await Promise.all(cluster.agents.slice(0, 2).map(containersOf))).flat().sort()).toEqual(containersBefore);
    for (const t of ['steady-1', 'steady-2', 'during-one-down']) expect(framework.states(t)).not.toContain('TASK_LOST');
  }, 180_000);
});
