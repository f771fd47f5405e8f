// A restart-proof agent: the agent runs as a real process and is SIGKILLed
// while its tasks run in real containers; the master runs in this process.
// After a restart it must come back with the same AgentID, take every
// container back, report what ended meanwhile with its real exit status,
// deliver every update in order, and refuse a checkpoint it cannot read.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync, truncateSync, appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from '../harness/processes.js';
import { freePort } from '../harness/zookeeper.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import type { OfferOut } from '../../proto/index.js';

let group: ProcessGroup;
let master: RunningMaster;
let grpcPort: number;
const masterLog: string[] = [];
const schedulers: RawScheduler[] = [];

beforeAll(async () => {
  group = new ProcessGroup();
  grpcPort = await freePort();
  master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, (l) => masterLog.push(l));
});

// A test that failed half-way must not leave its framework holding the offers the next one waits for.
afterEach(({ task }) => {
  if (task.result?.state === 'fail') for (const p of group.processes()) console.error(`--- ${p.name} (last lines)\n${p.lines.slice(-40).join('\n')}`);
  for (const s of schedulers.splice(0)) s.close();
});

afterAll(async () => {
  if (process.env.DEBUG_TEST) for (const p of group.processes()) console.error(`--- ${p.name}\n${p.lines.join('\n')}`);
  if (process.env.DEBUG_TEST) console.error(`--- master\n${masterLog.join('\n')}`);
  for (const s of schedulers) s.close();
  await master?.stop();
  await group?.stopAll();
}, 60_000);

const agentFlags = (resources = 'cpus:2;mem:1024;disk:100;ports:[31900-31909]') => [
  `--master=127.0.0.1:${grpcPort}`, `--resources=${resources}`, '--status_update_retry_interval=0.5s',
];

async function subscribe(name: string, opts: { id?: string; autoAck?: boolean } = {}): Promise<RawScheduler> {
  const s = new RawScheduler(`127.0.0.1:${grpcPort}`);
  s.autoAcknowledge = opts.autoAck ?? true;
  schedulers.push(s);
  const ev = await s.subscribe({ name, user: 'root', failover_timeout: 600, ...(opts.id ? { id: { value: opts.id } } : {}) });
  expect(ev.type).toBe('SUBSCRIBED');
  return s;
}

async function offerOn(s: RawScheduler, agentId: string): Promise<OfferOut> {
  const e = await s.next((ev) => ev.type === 'OFFERS' && ev.offers!.offers.some((o) => o.agent_id?.value === agentId && !used.has(o.id!.value)));
  const offer = e.offers!.offers.find((o) => o.agent_id?.value === agentId && !used.has(o.id!.value))!;
  used.add(offer.id!.value);
  return offer;
}
const used = new Set<string>();

const updatesOf = (s: RawScheduler, taskId: string) =>
  s.events.filter((e) => e.type === 'UPDATE' && e.update?.status?.task_id?.value === taskId).map((e) => e.update!.status!);
async function containersOf(agent: AgentProc) {
  const all = await new Docker().listContainers({ all: true, filters: { label: [`mesos-ts.work_dir=${agent.workDir}`] } });
  return all.map((c) => ({ id: c.Id, task: c.Labels['mesos-ts.task_id'] ?? '', state: c.State }));
}

/** The id under which the agent process `name` (as last started) is registered; agents advertise their HTTP port. */
async function agentRegistered(name: string): Promise<string> {
  let id = '';
  await waitUntil(() => {
    id = [...master.master.agents.values()].find((a) => a.connected && a.info.port === agents.get(name)?.httpPort)?.id ?? '';
    return id !== '';
  }, 20_000, `agent ${name} to register`);
  return id;
}
const agents = new Map<string, AgentProc>();

async function startAgentProc(name: string, extra: string[] = []): Promise<AgentProc> {
  const a = await group.spawnAgent(name, [...agentFlags(), ...extra]);
  agents.set(name, a);
  return a;
}

describe('an agent that restarts', () => {
  it('comes back after SIGKILL with the same AgentID and takes every task back; one that ended meanwhile is reported with its exit status', async () => {
    const first = await startAgentProc('a1');
    const agentId = await agentRegistered('a1');
    const s = await subscribe('recovery');
    const offer = await offerOn(s, agentId);
    const sleepers = ['s1', 's2', 's3', 's4'];
    await s.launch(offer, [
      ...sleepers.map((id) => commandTask(id, offer, 'sleep 3600', 'cpus:0.1;mem:32')),
      commandTask('ticker', offer, 'while true; do echo tick; sleep 0.2; done', 'cpus:0.1;mem:32'),
      commandTask('brief', offer, 'sleep 3; exit 7', 'cpus:0.1;mem:32'),
    ]);
    for (const id of [...sleepers, 'ticker', 'brief']) await s.next(isUpdate(id, 'TASK_RUNNING'), 30_000);

    first.signal('SIGKILL');
    await first.exited;
    // While the agent is down, "brief" exits with status 7.
    await waitUntil(async () => (await containersOf(first)).some((c) => c.task === 'brief' && c.state === 'exited'), 15_000, 'brief to exit');
    const tickerOut = join(first.workDir, 'sandboxes', s.frameworkId, 'ticker', 'stdout');
    const sizeBefore = statSync(tickerOut).size;

    const second = await startAgentProc('a1');
    await second.waitForLine(/recovered agent .*6 task\(s\)/, 15_000);
    expect(await agentRegistered('a1')).toBe(agentId);
    const failed = await s.next(isUpdate('brief', 'TASK_FAILED'), 20_000);
    expect(failed.update!.status!.message).toBe('exited with status 7');

    const from = s.events.length;
    await s.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [] } });
    await waitUntil(() => new Set(s.events.slice(from).filter((e) => e.update?.status?.state === 'TASK_RUNNING').map((e) => e.update!.status!.task_id!.value)).size === 5,
      10_000, 'reconciliation to report the 5 running tasks');
    for (const id of [...sleepers, 'ticker']) expect(updatesOf(s, id).map((u) => u.state).filter((st) => st !== 'TASK_STARTING' && st !== 'TASK_RUNNING')).toEqual([]);
    const containers = await containersOf(second);
    expect(containers.filter((c) => c.state === 'running').map((c) => c.task).sort()).toEqual([...sleepers, 'ticker'].sort());
    // brief's container goes once its TASK_FAILED is written down (a step after the update is sent); nothing launched twice.
    let left = containers;
    await waitUntil(async () => (left = await containersOf(second)).length === 5, 10_000, 'only the 5 running containers to be left')
      .catch((err: unknown) => { throw new Error(`${String(err)}: ${JSON.stringify(left)}`); });
    // The ticker's output reaches its sandbox again.
    await waitUntil(() => statSync(tickerOut).size > sizeBefore + 20, 10_000, 'the ticker output to grow');
    expect(readFileSync(tickerOut, 'utf8')).toMatch(/^(tick\n)+$/);
    s.close();
  });

  it('delivers updates made while the master was away, across an agent restart too, in order', async () => {
    const agent = await startAgentProc('a2', ['--resources=cpus:1;mem:256;disk:10;ports:[31910-31919]']);
    const agentId = await agentRegistered('a2');
    const s = await subscribe('in-order', { autoAck: false });
    const frameworkId = s.frameworkId;
    const offer = await offerOn(s, agentId);
    await s.launch(offer, [commandTask('ordered', offer, 'sleep 2; echo done', 'cpus:0.1;mem:32')]);
    await s.next(isUpdate('ordered', 'TASK_STARTING'));
    // Nothing is acknowledged: STARTING stays at the head, RUNNING and FINISHED queue behind it.
    s.close();
    await master.stop();
    await waitUntil(async () => (await containersOf(agent)).some((c) => c.task === 'ordered'), 15_000, 'the task\'s container');
    await waitUntil(async () => (await containersOf(agent)).length === 0, 15_000, 'the task to finish while the master is away');
    agent.signal('SIGKILL');
    await agent.exited;
    await startAgentProc('a2', ['--resources=cpus:1;mem:256;disk:10;ports:[31910-31919]']);

    master = await startMaster({ port: 0, grpc_port: grpcPort, allocation_interval: 0.1 }, (l) => masterLog.push(l));
    const back = await subscribe('in-order', { id: frameworkId, autoAck: false });
    const seen: string[] = [];
    for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']) {
      const e = await back.next((ev) => isUpdate('ordered', state)(ev) && ev.update!.status!.uuid.length > 0, 20_000);
      const st = e.update!.status!;
      seen.push(st.state);
      await back.call('Acknowledge', { type: 'ACKNOWLEDGE', acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid } });
    }
    expect(seen).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    const order = updatesOf(back, 'ordered').filter((u) => u.uuid.length > 0).map((u) => u.state);
    expect(order.indexOf('TASK_RUNNING')).toBeGreaterThan(order.indexOf('TASK_STARTING'));
    expect(order.lastIndexOf('TASK_RUNNING')).toBeLessThan(order.indexOf('TASK_FINISHED'));
    back.close();
  });

  it('refuses to start on a checkpoint it cannot read, naming the file; a torn last update record is dropped with a warning', async () => {
    const agent = await startAgentProc('a3', ['--resources=cpus:1;mem:256;disk:10;ports:[31920-31929]']);
    const agentId = await agentRegistered('a3');
    const s = await subscribe('corrupt');
    const offer = await offerOn(s, agentId);
    await s.launch(offer, [commandTask('c1', offer, 'sleep 3600', 'cpus:0.1;mem:32')]);
    await s.next(isUpdate('c1', 'TASK_RUNNING'));
    agent.signal('SIGKILL');
    await agent.exited;
    const taskDir = join(agent.workDir, 'meta', 'tasks', s.frameworkId, 'c1');
    // The container id is written down after TASK_RUNNING went out: a kill right after it may leave that
    // write's temporary file (task.json is the complete earlier version; recovery ignores the rest).
    expect(readdirSync(taskDir).filter((f) => !f.endsWith('.tmp')).sort()).toEqual(['task.json', 'updates']);

    // A torn last record: recovered, with a warning.
    appendFileSync(join(taskDir, 'updates'), '{"update":"CgQKAmMx');
    const tolerant = await startAgentProc('a3', ['--resources=cpus:1;mem:256;disk:10;ports:[31920-31929]']);
    await tolerant.waitForLine(/dropped a torn last record/, 15_000);
    await tolerant.waitForLine(/recovered agent .*1 task\(s\)/, 15_000);
    tolerant.signal('SIGKILL');
    await tolerant.exited;

    // A half-written task.json: the agent will not start, and says which file.
    const file = join(taskDir, 'task.json');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const refused = await group.spawnAgent('a3', [...agentFlags(), '--resources=cpus:1;mem:256;disk:10;ports:[31920-31929]']).catch((err: Error) => err);
    const lines = refused instanceof Error ? refused.message : (await refused.exited, refused.lines.join('\n'));
    expect(lines).toContain(`checkpoint ${file} is unreadable`);
    expect(lines).toContain('--recover=cleanup');
    // The task's container was not touched.
    expect((await containersOf(agent)).map((c) => `${c.task}:${c.state}`)).toEqual(['c1:running']);

    // --recover=cleanup: everything of this work_dir is killed and the agent starts afresh.
    const fresh = await startAgentProc('a3', ['--resources=cpus:1;mem:256;disk:10;ports:[31920-31929]', '--recover=cleanup']);
    await fresh.waitForLine(/--recover=cleanup: started afresh/, 15_000);
    expect(await containersOf(fresh)).toEqual([]);
    await waitUntil(() => [...master.master.agents.values()].some((a) => a.connected && a.id !== agentId && a.info.port === fresh.httpPort), 15_000, 'a new AgentID');
    s.close();
  });
});
