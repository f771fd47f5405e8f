// The registry across a change of leader, with a real ZooKeeper, real
// agents and real containers: what one master admitted, the next one knows.
// Each case makes the current leader leave and checks what its successor
// does with agents and frameworks that come back, or do not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import type { RunningMaster } from '../../master/main.js';
import { MasterGroup } from '../harness/master-group.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { containersUnder, removeContainersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { ZkSession } from '../../common/zk/session.js';
import { Resources } from '../../common/resources.js';
import type { FrameworkId } from '../../common/ids.js';
import type { AgentInfoOut, EventOut, OfferOut } from '../../proto/index.js';
import { Registry } from '../../master/registry/registry.js';
import { ZkRegistryStore } from '../../master/registry/zk-store.js';

const ZK_PATH = '/mesos-ts-registry';
const quiet = (line: string) => { if (process.env.DEBUG_TEST) console.error(line); };
let zk: TestZooKeeper;
const base = mkdtempSync(join(tmpdir(), 'mesos-ts-registry-'));
let group: MasterGroup;
const agents: RunningAgent[] = [];
const schedulers: RawScheduler[] = [];

beforeAll(async () => {
  zk = await startZooKeeper();
  group = new MasterGroup(`zk://${zk.connectString}${ZK_PATH}`, {
    zk_session_timeout: 2, allocation_interval: 0.1, agent_reregister_timeout: 4, registry_max_agent_age: 2,
  }, quiet);
  for (let i = 0; i < 5; i++) await addMaster();
}, 60_000);

afterAll(async () => {
  for (const s of schedulers) s.close();
  for (const a of agents) await a.stop({ killTasks: true }).catch(() => {});
  await group?.stopAll();
  await zk?.stop();
  await removeContainersUnder(base);
  rmSync(base, { recursive: true, force: true });
});

const addMaster = () => group.add();
const leader = () => group.leader();
/** The current leader leaves (its session closes, as when the process dies); returns its successor once it leads. */
const failOver = () => group.failOver();

async function agent(name: string): Promise<RunningAgent> {
  const a = await startAgent({
    master: `zk://${zk.connectString}${ZK_PATH}`, port: 0, work_dir: join(base, name), resources: 'cpus:1;mem:256;disk:10;ports:[31700-31709]',
    docker_pull: 'never', kill_grace_period: 1, status_update_retry_interval: 1, log: quiet,
  });
  agents.push(a);
  await waitUntil(() => a.agentId() !== null, 15_000, `agent ${name} to register`);
  return a;
}

async function subscribe(m: RunningMaster, name: string, opts: { id?: string; failoverTimeout?: number; partitionAware?: boolean } = {}) {
  const s = new RawScheduler(m.grpcAddress);
  s.autoAcknowledge = true;
  schedulers.push(s);
  const ev = await s.subscribe({
    name, user: 'root', failover_timeout: opts.failoverTimeout ?? 60, ...(opts.id ? { id: { value: opts.id } } : {}),
    capabilities: opts.partitionAware ? [{ type: 'PARTITION_AWARE' }] : [],
  });
  expect(ev.type).toBe('SUBSCRIBED');
  return s;
}

/** Launches `count` long-running tasks on the agent `agentId` and waits until they run. */
async function launchSleepers(s: RawScheduler, agentId: string, prefix: string, count: number): Promise<string[]> {
  const offer = (await s.next((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id?.value === agentId))).offers!.offers.find(
    (o) => o.agent_id?.value === agentId,
  ) as OfferOut;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await s.launch(offer, ids.map((id) => commandTask(id, offer, 'sleep 3600', 'cpus:0.1;mem:32')));
  for (const id of ids) await s.next(isUpdate(id, 'TASK_RUNNING'), 30_000);
  // Wants nothing more: hands back what it holds so other frameworks get offers.
  await s.call('Suppress', { type: 'SUPPRESS', suppress: { roles: [] } });
  const held = s.events.flatMap((e) => e.offers?.offers ?? []).filter((o) => o.id!.value !== offer.id!.value);
  await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: held.map((o) => o.id!), filters: { refuse_seconds: 3600 } } });
  return ids;
}

async function registryNode(path: string): Promise<Record<string, unknown> | null> {
  const session = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: 4000 });
  try {
    const data = await session.data(`${ZK_PATH}/registry/${path}`);
    return data ? (JSON.parse(data.toString()) as Record<string, unknown>) : null;
  } finally {
    session.close();
  }
}

/** An agent's task ids as a successor reads them: its entry, and the journal's entries (master/registry/task-journal.ts). */
async function registeredTasks(agentId: string): Promise<string[]> {
  const session = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: 4000 });
  try {
    const reader = new Registry(new ZkRegistryStore(session, ZK_PATH, () => null));
    await reader.recover();
    return [...(reader.agents.get(agentId)?.tasks.values() ?? [])].map((t) => t.task_id).sort();
  } finally {
    session.close();
  }
}

describe('the registry across a change of leader', () => {
  it('holds admitted agents, frameworks and tasks; the next leader takes them over without losing or duplicating a task', async () => {
    const m0 = await leader();
    const a = await agent('a1');
    const s = await subscribe(m0, 'keeper');
    const frameworkId = s.frameworkId;
    const tasks = await launchSleepers(s, a.agentId()!, 'keep', 2);

    const agentDoc = await registryNode(`agents/${a.agentId()}`);
    expect((agentDoc!.info as { hostname: string }).hostname).toBeTruthy();
    expect(await registeredTasks(a.agentId()!)).toEqual(tasks);
    const fwDoc = await registryNode(`frameworks/${frameworkId}`);
    expect((fwDoc!.info as { failover_timeout: number }).failover_timeout).toBe(60);

    s.close();
    const { next } = await failOver();
    // Known from the registry at once: the framework (disconnected) and the agent.
    expect(next.master.frameworks.get(frameworkId)?.connected).toBe(false);
    expect(next.master.agents.has(a.agentId()!)).toBe(true);
    await waitUntil(() => next.master.agents.get(a.agentId()!)?.connected === true, 15_000, 'the agent to re-register');

    const back = await subscribe(next, 'keeper', { id: frameworkId });
    expect(back.frameworkId).toBe(frameworkId);
    await back.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [] } });
    for (const id of tasks) await back.next(isUpdate(id, 'TASK_RUNNING'));
    expect((await containersUnder(join(base, 'a1'))).filter((c) => c.State === 'running')).toHaveLength(2);
    // The failover timer was cancelled by the re-subscription: the framework stays past it.
    expect(next.master.deadline({ kind: 'failover-timeout', frameworkId: frameworkId as FrameworkId })).toBeUndefined();
    back.close(); // Its offers go back for the next cases.
  });

  it('reports the tasks of an agent that never comes back TASK_UNREACHABLE, then TASK_GONE', async () => {
    const m = await leader();
    const a = await agent('a2');
    const agentId = a.agentId()!;
    const s = await subscribe(m, 'partition-aware', { partitionAware: true });
    const [taskId] = await launchSleepers(s, agentId, 'stranded', 1);
    s.close();
    await a.stop({ killTasks: false }); // The agent dies; its container stays.
    agents.splice(agents.indexOf(a), 1);
    const { next } = await failOver();

    const back = await subscribe(next, 'partition-aware', { id: s.frameworkId, partitionAware: true });
    // While the agent may still re-register, reconciliation says nothing of its tasks (as in Mesos).
    await back.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: taskId! }, agent_id: { value: agentId } }] } });
    const unreachable = await back.next(isUpdate(taskId!, 'TASK_UNREACHABLE'), 10_000);
    expect(unreachable.update!.status!.reason).toBe('REASON_AGENT_REMOVED');
    expect(back.events.filter((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId)[0]).toBe(unreachable);
    expect((await registryNode(`agents/${agentId}`))!.unreachable_time).toEqual(expect.any(Number));

    await back.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: taskId! }, agent_id: { value: agentId } }] } });
    await back.next((e) => isUpdate(taskId!, 'TASK_UNREACHABLE')(e) && e.update!.status!.reason === 'REASON_RECONCILIATION');

    const gone = await back.next(isUpdate(taskId!, 'TASK_GONE'), 10_000);
    expect(gone.update!.status!.message).toContain(`agent ${agentId} is gone`);
    const doc = await registryNode(`agents/${agentId}`);
    expect(doc!.gone_time).toEqual(expect.any(Number));
    expect(doc!.tasks).toEqual([]);
    expect(next.master.agents.has(agentId)).toBe(false);
    back.close();
  });

  it('keeps the tasks of a framework that fails over within failover_timeout across masters, and kills them beyond it', async () => {
    const m = await leader();
    const a = await agent('a3');
    const patient = await subscribe(m, 'patient', { failoverTimeout: 60 });
    const [kept] = await launchSleepers(patient, a.agentId()!, 'patient', 1);
    const hasty = await subscribe(m, 'hasty', { failoverTimeout: 1 });
    const [killed] = await launchSleepers(hasty, a.agentId()!, 'hasty', 1);
    patient.close();
    hasty.close();
    const { next } = await failOver();
    const taskContainer = async (id: string) => (await containersUnder(join(base, 'a3'))).find((c) => c.Labels['mesos-ts.task_id'] === id);

    // The hasty framework does not come back: the new leader removes it after its failover_timeout and its task goes.
    await waitUntil(async () => (await taskContainer(killed!)) === undefined, 20_000, 'the hasty framework\'s task to be killed');
    expect(next.master.frameworks.has(hasty.frameworkId)).toBe(false);
    expect((await registryNode(`frameworks/${hasty.frameworkId}`))!.removed_time).toEqual(expect.any(Number));

    const back = await subscribe(next, 'patient', { id: patient.frameworkId, failoverTimeout: 60 });
    await back.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [] } });
    await back.next(isUpdate(kept!, 'TASK_RUNNING'));
    expect((await taskContainer(kept!))?.State).toBe('running');
    back.close();
  });

  it('reports a task that ended while its framework and the leader were away with its real end, not as dropped', async () => {
    const m = await leader();
    const a = await agent('a4');
    const s = await subscribe(m, 'away', { partitionAware: true });
    const offer = (await s.next((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id?.value === a.agentId()))).offers!.offers.find(
      (o) => o.agent_id?.value === a.agentId(),
    )!;
    await s.launch(offer, [commandTask('brief', offer, 'sleep 1; exit 3')]);
    await s.next(isUpdate('brief', 'TASK_RUNNING'));
    s.close(); // Nobody acknowledges the end: the agent keeps retrying it.
    await waitUntil(async () => (await containersUnder(join(base, 'a4'))).every((c) => c.State !== 'running'), 15_000, 'the task to end');
    const { next } = await failOver();
    await waitUntil(() => next.master.agents.get(a.agentId()!)?.connected === true, 15_000, 'the agent to re-register');
    const back = await subscribe(next, 'away', { id: s.frameworkId, partitionAware: true });
    const failed = await back.next(isUpdate('brief', 'TASK_FAILED'), 15_000);
    expect(failed.update!.status!.message).toContain('exited with status 3');
    expect(back.events.filter((e) => e.type === 'UPDATE' && e.update?.status?.state === 'TASK_DROPPED')).toEqual([]);
    // And the master agrees.
    await back.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'brief' }, agent_id: { value: a.agentId()! } }] } });
    const answer = await back.next((e) => e.type === 'UPDATE' && e.update?.status?.reason === 'REASON_RECONCILIATION');
    expect(answer.update!.status!.state).toBe('TASK_FAILED');
    back.close();
  });

  it('keeps dynamic reservations across a change of leader', async () => {
    await addMaster(); // A standby to take over (each case uses one up).
    const m = await leader();
    const a = await agent('a5');
    const s = new RawScheduler(m.grpcAddress);
    s.autoAcknowledge = true;
    schedulers.push(s);
    await s.subscribe({ name: 'reserver', user: 'root', role: 'ops', failover_timeout: 60 });
    const onA5 = (e: EventOut) => e.type === 'OFFERS' && e.offers!.offers.some((o) => o.agent_id?.value === a.agentId());
    const offer = (await s.next(onA5)).offers!.offers.find((o) => o.agent_id?.value === a.agentId())!;
    const reserved = Resources.parse('cpus:0.5;mem:64').toProto().map((r) => ({ ...r, reservations: [{ type: 'DYNAMIC' as const, role: 'ops' }] }));
    await s.call('Accept', { type: 'ACCEPT', accept: { offer_ids: [offer.id!], operations: [{ type: 'RESERVE', reserve: { resources: reserved } }], filters: { refuse_seconds: 0 } } });
    await waitUntil(() => m.master.agents.get(a.agentId()!)?.total.toString().includes('cpus(ops):0.5') === true, 10_000, 'the reservation');
    await waitUntil(async () => ((await registryNode(`agents/${a.agentId()}`))?.reservations as unknown[] | undefined)?.length === 2, 10_000, 'the registry to hold it');
    s.close();

    const { next } = await failOver();
    await waitUntil(() => next.master.agents.get(a.agentId()!)?.connected === true, 15_000, 'the agent to re-register');
    expect(next.master.agents.get(a.agentId()!)!.total.toString()).toContain('cpus(ops):0.5;');
    const ops = new RawScheduler(next.grpcAddress);
    schedulers.push(ops);
    await ops.subscribe({ name: 'reserver', user: 'root', role: 'ops', failover_timeout: 60 });
    const again = (await ops.next(onA5)).offers!.offers.find((o) => o.agent_id?.value === a.agentId())!;
    const dynamic = again.resources.filter((r) => r.reservations.some((x) => x.role === 'ops' && x.type === 'DYNAMIC'));
    expect(dynamic.map((r) => `${r.name}:${r.scalar?.value}`).sort()).toEqual(['cpus:0.5', 'mem:64']);
    ops.close();
  });

  it('cannot be written once its master\'s candidacy is gone: the write fails, the master is told, nothing lands', async () => {
    const session = await ZkSession.connect({ servers: zk.connectString, sessionTimeoutMs: 4000 });
    try {
      const failures: string[] = [];
      const registry = new Registry(new ZkRegistryStore(session, ZK_PATH, () => `${ZK_PATH}/json.info_9999999999`), (err) => failures.push(err.message));
      const info = { hostname: 'intruder', resources: [], attributes: [] } as unknown as AgentInfoOut;
      await expect(registry.admitAgent('intruder', info, 1)).rejects.toThrow(/registry write to ZooKeeper .* failed/);
      expect(failures).toHaveLength(1);
      await expect(registry.admitAgent('intruder-2', info, 1)).rejects.toThrow(/failed/);
      expect(await registryNode('agents/intruder')).toBeNull();
    } finally {
      session.close();
    }
  });
});
