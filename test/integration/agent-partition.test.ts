// Liveness both ways: an agent process that stops answering (SIGSTOP) is
// marked unreachable once it has missed --max_agent_ping_timeouts pings; a
// partition-aware framework hears TASK_UNREACHABLE, another TASK_LOST. When
// the agent comes back (SIGCONT) it reconnects by itself: the
// partition-aware framework hears its task is RUNNING again, and the task of
// the framework that was told LOST is killed without a word to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from '../harness/processes.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import type { OfferOut } from '../../proto/index.js';

let group: ProcessGroup;
let master: RunningMaster;
let agent: AgentProc;
const schedulers: RawScheduler[] = [];

beforeAll(async () => {
  group = new ProcessGroup();
  master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1, agent_ping_timeout: 0.3, max_agent_ping_timeouts: 3 }, () => {});
  agent = await group.spawnAgent('agent', [`--master=${master.grpcAddress}`, '--resources=cpus:1;mem:256;disk:10;ports:[31950-31959]',
    '--status_update_retry_interval=0.5s']);
  await waitUntil(() => [...master.master.agents.values()].some((a) => a.connected), 20_000, 'the agent to register');
}, 60_000);

afterAll(async () => {
  for (const s of schedulers) s.close();
  agent?.signal('SIGCONT');
  await master?.stop();
  await group?.stopAll();
}, 60_000);

async function launchOne(name: string, partitionAware: boolean): Promise<RawScheduler> {
  const s = new RawScheduler(master.grpcAddress);
  s.autoAcknowledge = true;
  schedulers.push(s);
  await s.subscribe({ name, user: 'root', failover_timeout: 600, capabilities: partitionAware ? [{ type: 'PARTITION_AWARE' }] : [] });
  const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0] as OfferOut;
  await s.launch(offer, [commandTask(name, offer, 'sleep 3600', 'cpus:0.1;mem:32')]);
  await s.next(isUpdate(name, 'TASK_RUNNING'), 30_000);
  await s.call('Suppress', { type: 'SUPPRESS', suppress: { roles: [] } });
  const held = s.events.flatMap((e) => e.offers?.offers ?? []).filter((o) => o.id!.value !== offer.id!.value);
  if (held.length > 0) await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: held.map((o) => o.id!), filters: { refuse_seconds: 3600 } } });
  return s;
}

describe('an agent that stops answering', () => {
  it('is unreachable after the missed pings, and its tasks are reported as such; when it comes back, it is taken back', async () => {
    const aware = await launchOne('aware', true);
    const plain = await launchOne('plain', false);
    const agentEvents: string[] = [];
    const unlisten = master.master.events.listen((e) => {
      if (e.type === 'AGENT_ADDED' || e.type === 'AGENT_REMOVED') agentEvents.push(e.type);
    });

    agent.signal('SIGSTOP');
    const stoppedAt = Date.now();
    const unreachable = await aware.next(isUpdate('aware', 'TASK_UNREACHABLE'), 10_000);
    expect(unreachable.update!.status!.reason).toBe('REASON_AGENT_REMOVED');
    const lost = await plain.next(isUpdate('plain', 'TASK_LOST'), 10_000);
    expect(lost.update!.status!.message).toMatch(/unreachable/);
    // 3 missed pings of 0.3 s: about a second, not the 75 s default nor agent_reregister_timeout.
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);

    agent.signal('SIGCONT');
    await aware.next((e) => isUpdate('aware', 'TASK_RUNNING')(e) && e.update!.status!.reason === 'REASON_AGENT_REREGISTERED', 20_000);
    // The plain framework's task is killed on the agent; the framework, told LOST, hears nothing more.
    const docker = new Docker();
    await waitUntil(async () => {
      const all = await docker.listContainers({ all: true, filters: { label: [`mesos-ts.work_dir=${agent.workDir}`] } });
      return all.map((c) => c.Labels['mesos-ts.task_id']).join(',') === 'aware';
    }, 20_000, 'only the partition-aware task\'s container to remain');
    await new Promise((r) => setTimeout(r, 1500)); // Time for a stray update to arrive, if one were sent.
    const plainStates = plain.events.filter((e) => e.update?.status?.task_id?.value === 'plain').map((e) => e.update!.status!.state);
    expect(plainStates.at(-1)).toBe('TASK_LOST');
    const agentRecord = [...master.master.agents.values()][0]!;
    expect(agentRecord.connected).toBe(true);
    expect(agentRecord.unreachableSince).toBeNull();
    // The operator event stream saw it leave (unreachable) and come back.
    expect(agentEvents).toEqual(['AGENT_REMOVED', 'AGENT_ADDED']);
    unlisten();
  });
});
