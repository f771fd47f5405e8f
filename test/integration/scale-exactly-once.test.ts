// Issue 15's end-to-end check at a modest scale: 200 simulated agents
// (bench/scale's SimAgent: the real agent link and status update manager)
// and 5 schedulers against a real master whose registry is in a real
// ZooKeeper, over gRPC on loopback. Every launched task must reach RUNNING at
// its scheduler, and every agent must see each of its tasks' updates
// (STARTING, RUNNING, FINISHED) acknowledged exactly once, in that order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { SimAgent } from '../../bench/scale/sim-agent.js';
import { Resources } from '../../common/resources.js';
import type { OfferOut, TaskState } from '../../proto/index.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { waitUntil } from '../harness/wait-until.js';

const AGENTS = 200;
const FRAMEWORKS = 5;
const TASKS_PER_FRAMEWORK = 40;

let zk: TestZooKeeper;
let master: RunningMaster;
const agents: SimAgent[] = [];
const schedulers: RawScheduler[] = [];

beforeAll(async () => {
  zk = await startZooKeeper();
  master = await startMaster({ port: 0, grpc_port: 0, zk: `zk://${zk.connectString}/mesos-exactly-once`, allocation_interval: 0.1, quiet: true });
  await waitUntil(() => master.leading(), 20_000, 'the master to lead');
}, 60_000);

afterAll(async () => {
  for (const s of schedulers) s.close();
  for (const a of agents) a.stop();
  await master?.stop();
  await zk?.stop();
});

describe('200 simulated agents and 5 frameworks', () => {
  it('every launched task reaches RUNNING and every update is acknowledged exactly once, in order per task', async () => {
    const acks = new Map<string, TaskState[]>(); // task id (unique: it starts with its framework's) -> states acknowledged at its agent, in order
    let registered = 0;
    for (let i = 0; i < AGENTS; i++) {
      const agent = new SimAgent({
        master: master.grpcAddress, hostname: `agent-${String(i).padStart(5, '0')}`, resources: 'cpus:4;mem:4096', attributes: `rack:r${i % 10}`, finishAfterMs: 200,
        observer: {
          registered: () => void registered++,
          taskReceived: () => {},
          acknowledged: (state, taskId) => void acks.set(taskId, [...(acks.get(taskId) ?? []), state]),
        },
      });
      agents.push(agent);
      agent.start();
    }
    await waitUntil(() => registered === AGENTS, 60_000, `${AGENTS} agents to register (${registered} so far)`);

    const demand = Resources.parse('cpus:0.1;mem:32').toProto();
    const launched = new Map<RawScheduler, string[]>();
    for (let f = 0; f < FRAMEWORKS; f++) {
      const s = new RawScheduler(master.grpcAddress);
      s.autoAcknowledge = true;
      schedulers.push(s);
      await s.subscribe({ name: `fw-${f}`, user: 'test' });
      launched.set(s, []);
    }
    // Each scheduler reads its events in order and launches into each offer (at most 4 tasks, and what fits) until it has
    // launched its share, declining the rest; an offer it was told is rescinded is never used.
    await Promise.all(schedulers.map(async (s) => {
      const ids = launched.get(s)!;
      const rescinded = new Set<string>();
      for (let cursor = 0; ids.length < TASKS_PER_FRAMEWORK; cursor++) {
        await s.next(() => s.events.length > cursor, 30_000);
        const event = s.events[cursor]!;
        if (event.type === 'RESCIND') rescinded.add(event.rescind!.offer_id!.value);
        if (event.type !== 'OFFERS') continue;
        for (const offer of event.offers!.offers as OfferOut[]) {
          // An agent other tasks run on offers only what is left: launch only what fits.
          const held = Resources.fromProto(offer.resources);
          const fits = Math.min(Math.floor(held.scalar('cpus') / 0.1 + 1e-9), Math.floor(held.scalar('mem') / 32));
          const count = Math.min(4, fits, TASKS_PER_FRAMEWORK - ids.length);
          if (rescinded.has(offer.id!.value) || count === 0) {
            await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: [offer.id!], filters: { refuse_seconds: 3600 } } });
            continue;
          }
          const tasks = Array.from({ length: count }, (_, k) => {
            const id = `${s.frameworkId}-t${ids.length + k}`;
            return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: demand, command: { value: 'true' } };
          });
          ids.push(...tasks.map((t) => t.task_id.value));
          await s.launch(offer, tasks);
        }
      }
    }));

    const total = FRAMEWORKS * TASKS_PER_FRAMEWORK;
    const done = () => [...acks.values()].filter((states) => states.includes('TASK_FINISHED')).length;
    const progress = () => {
      const last = new Map<string, number>();
      for (const states of acks.values()) last.set(String(states.at(-1)), (last.get(String(states.at(-1))) ?? 0) + 1);
      const missing = schedulers.flatMap((s) => launched.get(s)!.filter((id) => !acks.get(id)?.includes('TASK_FINISHED')).map((id) => {
        const seen = s.events.filter((e) => e.update?.status?.task_id?.value === id).map((e) => `${e.update!.status!.state}${e.update!.status!.message ? ` (${e.update!.status!.message})` : ''}`);
        return `${id}: acked ${JSON.stringify(acks.get(id) ?? [])}, scheduler saw ${JSON.stringify(seen)}`;
      }));
      return `${done()} finished; last state acknowledged: ${JSON.stringify(Object.fromEntries(last))}; launched ${[...launched.values()].flat().length}; unfinished: ${missing.slice(0, 5).join('; ')}`;
    };
    await waitUntil(() => done() === total, 90_000, `all ${total} tasks to finish with every update acknowledged`).catch((err: Error) => {
      throw new Error(`${err.message}: ${progress()}`);
    });

    for (const s of schedulers) {
      const running = new Set(s.events.filter((e) => e.update?.status?.state === 'TASK_RUNNING').map((e) => e.update!.status!.task_id!.value));
      for (const id of launched.get(s)!) expect(running.has(id), `RUNNING of ${id} at its scheduler`).toBe(true);
      for (const id of launched.get(s)!) expect(acks.get(id), `acknowledgements of ${id}`).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    }
    expect(acks.size).toBe(total); // No acknowledgement of a task nobody launched.
    expect(agents.reduce((sum, a) => sum + a.pending(), 0)).toBe(0);
  }, 240_000);
});
