// Draining an agent process (SIGUSR1): the master stops offering it at once,
// running tasks may finish on their own until --drain_timeout, the rest are
// killed, every update reaches the framework, and the agent exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { ProcessGroup, type AgentProc } from '../harness/processes.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import type { OfferOut } from '../../proto/index.js';

let group: ProcessGroup;
let master: RunningMaster;
let agent: AgentProc;
let s: RawScheduler;

beforeAll(async () => {
  group = new ProcessGroup();
  master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1 }, () => {});
  agent = await group.spawnAgent('drained', [`--master=${master.grpcAddress}`, '--resources=cpus:1;mem:256;disk:10;ports:[31970-31979]',
    '--drain_timeout=3s', '--status_update_retry_interval=0.5s']);
  await waitUntil(() => [...master.master.agents.values()].some((a) => a.connected), 20_000, 'the agent to register');
  s = new RawScheduler(master.grpcAddress);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'drain', user: 'root' });
}, 60_000);

afterAll(async () => {
  s?.close();
  await master?.stop();
  await group?.stopAll();
}, 60_000);

describe('draining an agent', () => {
  it('stops offers at once, lets tasks finish until --drain_timeout, kills the rest, and exits 0', async () => {
    const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0] as OfferOut;
    await s.launch(offer, [commandTask('short', offer, 'sleep 2', 'cpus:0.1;mem:32'), commandTask('long', offer, 'sleep 3600', 'cpus:0.1;mem:32')]);
    await s.next(isUpdate('short', 'TASK_RUNNING'));
    await s.next(isUpdate('long', 'TASK_RUNNING'));
    await s.next((e) => e.type === 'OFFERS' && e.offers!.offers[0]!.id!.value !== offer.id!.value); // The rest is offered again.

    const drainedAt = Date.now();
    agent.signal('SIGUSR1');
    await waitUntil(() => [...master.master.agents.values()][0]?.draining === true, 5_000, 'the master to see the agent draining');
    const offersAfter = () => s.events.slice(drainedIndex).filter((e) => e.type === 'OFFERS').length;
    const drainedIndex = s.events.length;
    expect(master.master.offers.ofAgent([...master.master.agents.keys()][0]!)).toEqual([]);

    await s.next(isUpdate('short', 'TASK_FINISHED'), 10_000);
    const killed = await s.next(isUpdate('long', 'TASK_KILLED'), 15_000);
    expect(killed).toBeDefined();
    expect(Date.now() - drainedAt).toBeGreaterThanOrEqual(2_900);
    const exit = await agent.exited;
    expect(exit.code).toBe(0);
    expect(offersAfter()).toBe(0);
    expect(agent.lines.join('\n')).toMatch(/drained: 0 update\(s\) still unacknowledged/);
  });
});
