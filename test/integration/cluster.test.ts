// End to end, all real: a master and an agent over loopback gRPC, tasks in
// containers on the Docker engine, a scheduler speaking the raw protocol.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, containersUnder, type TestCluster } from '../harness/cluster.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';
import { Resources } from '../../common/resources.js';
import type { EventOut, OfferOut, TaskInfoIn, TaskStatusOut } from '../../proto/index.js';

let cluster: TestCluster;
let s: RawScheduler;

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:512;disk:1024;ports:[31200-31209]'] });
  s = new RawScheduler(cluster.master.grpcAddress);
  await s.subscribe({ name: 'e2e', user: 'root', failover_timeout: 60, capabilities: [{ type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }] });
  s.client.waitForReady(Date.now() + 5000, () => {});
}, 60_000);

afterAll(async () => {
  s?.close();
  await cluster?.stop();
  expect(await containersUnder(cluster.base)).toEqual([]);
});

/** Takes the first offer not yet used by this test. */
const usedOffers = new Set<string>();

/** Declines every offer this test holds, so the next offer holds all that is free. */
async function declineOutstanding(refuseSeconds = 0): Promise<void> {
  const rescinded = new Set(s.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind!.offer_id!.value));
  const ids = s.events.flatMap((e) => (e.type === 'OFFERS' ? e.offers!.offers : [])).map((o) => o.id!.value)
    .filter((id) => !usedOffers.has(id) && !rescinded.has(id));
  ids.forEach((id) => usedOffers.add(id));
  if (ids.length > 0) {
    await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: ids.map((value) => ({ value })), filters: { refuse_seconds: refuseSeconds } } });
  }
}

async function nextOffer(): Promise<OfferOut> {
  const ev = await s.next((e) => e.type === 'OFFERS' && e.offers!.offers.some((o) => !usedOffers.has(o.id!.value)));
  const offer = ev.offers!.offers.find((o) => !usedOffers.has(o.id!.value))!;
  usedOffers.add(offer.id!.value);
  return offer;
}

const task = commandTask;
const launch = (offer: OfferOut, tasks: TaskInfoIn[], refuse = 0) => s.launch(offer, tasks, refuse);

/** Waits for a state of a task, acknowledging every update with a uuid on the way (as a scheduler must). */
const acked = new Set<string>();
async function stateOf(taskId: string, state: string, timeoutMs = 30_000): Promise<TaskStatusOut> {
  const ev = await s.next((e) => {
    ackAll();
    return e.type === 'UPDATE' && e.update!.status!.task_id!.value === taskId && e.update!.status!.state === state;
  }, timeoutMs);
  ackAll();
  return ev.update!.status!;
}
function ackAll(): void {
  for (const e of s.events) {
    const st = e.update?.status;
    if (e.type !== 'UPDATE' || !st || st.uuid.length === 0) continue;
    const key = st.uuid.toString('hex');
    if (acked.has(key)) continue;
    acked.add(key);
    void s.call('Acknowledge', { type: 'ACKNOWLEDGE', acknowledge: { agent_id: st.agent_id, task_id: st.task_id, uuid: st.uuid } }).catch(() => {});
  }
}

const updatesOf = (taskId: string) => s.events.filter((e: EventOut) => e.type === 'UPDATE' && e.update!.status!.task_id!.value === taskId).map((e) => e.update!.status!.state);

describe('a real cluster', () => {
  it('offers the agent with its resources and attributes, and its HTTP endpoint as Offer.url', async () => {
    const offer = await nextOffer();
    const r = Resources.fromProto(offer.resources);
    expect(r.scalar('cpus')).toBe(2);
    expect(r.ranges('ports')).toEqual([[31200, 31209]]);
    const [ip, port] = cluster.agents[0]!.httpAddress.split(':');
    expect(offer.url).toMatchObject({ scheme: 'http', address: { hostname: ip, ip, port: Number(port) }, path: '/slave(1)' });
    const agentState = await fetch(`http://${offer.url!.address!.ip}:${offer.url!.address!.port}/state`); // Clients reach the agent there.
    expect(agentState.status).toBe(200);
    await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: [offer.id!], filters: { refuse_seconds: 0 } } });
  });

  it('runs a task to FINISHED through STARTING and RUNNING', async () => {
    const offer = await nextOffer();
    await launch(offer, [task('hello', offer, 'echo hi; sleep 0.3')]);
    const finished = await stateOf('hello', 'TASK_FINISHED');
    expect(finished.agent_id!.value).toBe(offer.agent_id!.value);
    expect(updatesOf('hello')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  });

  it('reports exit 3 as FAILED with the status', async () => {
    const offer = await nextOffer();
    await launch(offer, [task('three', offer, 'exit 3')]);
    expect((await stateOf('three', 'TASK_FAILED')).message).toBe('exited with status 3');
  });

  it('kills a running task: KILLING then KILLED', async () => {
    const offer = await nextOffer();
    await launch(offer, [task('victim', offer, 'sleep 60')]);
    await stateOf('victim', 'TASK_RUNNING');
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'victim' }, agent_id: offer.agent_id } });
    await stateOf('victim', 'TASK_KILLED');
    expect(updatesOf('victim')).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  });

  it('fails a task over its memory limit, naming the limit', async () => {
    const offer = await nextOffer();
    await launch(offer, [task('hog', offer, 'x=a; while true; do x="$x$x"; done', 'cpus:0.2;mem:32')]);
    const failed = await stateOf('hog', 'TASK_FAILED');
    expect(failed.reason).toBe('REASON_CONTAINER_LIMITATION_MEMORY');
    expect(failed.message).toContain('memory limit of 32 MB exceeded');
  });

  it('refuses a task asking more than offered, and the resources come back', async () => {
    const offer = await nextOffer();
    await launch(offer, [task('greedy', offer, 'true', 'cpus:16;mem:32')]);
    const error = await stateOf('greedy', 'TASK_ERROR');
    expect(error.message).toContain('asks for cpus:16;mem:32 but the offers hold only');
    // Stop offers, let those in flight arrive, give everything back at once, then ask again:
    // the agent comes back whole in one offer.
    await s.call('Suppress', { type: 'SUPPRESS' });
    await new Promise((r) => setTimeout(r, 300));
    await declineOutstanding();
    await s.call('Revive', { type: 'REVIVE' });
    const again = await nextOffer();
    expect(Resources.fromProto(again.resources).scalar('cpus')).toBe(2);
    await s.call('Decline', { type: 'DECLINE', decline: { offer_ids: [again.id!], filters: { refuse_seconds: 0 } } });
  });

  it('refuses a duplicate task id while the first runs', async () => {
    const offer = await nextOffer();
    await launch(offer, [task('twin', offer, 'sleep 30'), task('twin', offer, 'sleep 30')]);
    const error = await stateOf('twin', 'TASK_ERROR');
    expect(error.message).toContain("task id 'twin' is already in use");
    await stateOf('twin', 'TASK_RUNNING');
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'twin' } } });
    await stateOf('twin', 'TASK_KILLED');
  });

  it('does not re-offer a declined agent before refuse_seconds, then does', async () => {
    await nextOffer();
    const t0 = Date.now();
    await declineOutstanding(1.5);
    // A second sweep catches offers that were already on their way.
    await new Promise((r) => setTimeout(r, 300));
    await declineOutstanding(1.5);
    await nextOffer();
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(6000);
  });

  it('reconciles: explicit for a known task, implicit for all', async () => {
    await s.call('Reconcile', { type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'hello' } }] } });
    const ev = await s.next((e) => e.type === 'UPDATE' && e.update!.status!.reason === 'REASON_RECONCILIATION' && e.update!.status!.task_id!.value === 'hello');
    expect(ev.update!.status!.state).toBe('TASK_FINISHED');
    expect(ev.update!.status!.uuid.length).toBe(0);
  });

  it('shows agents, frameworks and tasks in /state', async () => {
    const st: any = await (await fetch(`http://${cluster.master.httpAddress}/state`)).json();
    expect(st.slaves).toHaveLength(1);
    expect(st.slaves[0].resources.cpus).toBe(2);
    expect(st.slaves[0].pid).toBe(`slave(1)@${cluster.agents[0]!.httpAddress}`); // As Mesos writes it; DNS servers for Mesos read it.
    const fw = st.frameworks.find((f: { name: string }) => f.name === 'e2e');
    expect(fw).toBeDefined();
    expect('pid' in fw).toBe(false); // Absent, not null, for a framework that has no libprocess pid (as Mesos for HTTP frameworks).
    const agentState: any = await (await fetch(`http://${cluster.agents[0]!.httpAddress}/state`)).json();
    expect(agentState.id).toBe(st.slaves[0].id);
  });
});
