// End to end over the v1 scheduler HTTP API, all real: a master and an agent
// in-process, tasks in containers on the Docker engine, schedulers speaking
// JSON and protobuf through a client written from Mesos's docs, and a gRPC
// scheduler beside them. Each HTTP scheduler subscribes, takes offers,
// launches, acknowledges, reconciles, declines, kills and tears down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, containersUnder, TEST_IMAGE, type TestCluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';
import { MesosHttpClient, type JsonOffer, type JsonStatus, type MesosEvent, type WireEncoding } from '../harness/mesos-http-client.js';
import { Resources } from '../../common/resources.js';

let cluster: TestCluster;
let grpcScheduler: RawScheduler;
const frameworks = new Map<WireEncoding, HttpFramework>();

const CAPABILITIES = [{ type: 'PARTITION_AWARE' as const }, { type: 'TASK_KILLING_STATE' as const }];

/** A scheduler over HTTP: its offers, and acknowledgements of every update as it waits. */
class HttpFramework {
  readonly client: MesosHttpClient;
  private readonly used = new Set<string>();

  constructor(encoding: WireEncoding) {
    this.client = new MesosHttpClient({ master: cluster.master.httpAddress, encoding });
  }

  get events(): MesosEvent[] {
    return this.client.events;
  }

  /** The first offer not taken yet (REVIVE first when `revive`). */
  async nextOffer(revive = false): Promise<JsonOffer> {
    if (revive) expect((await this.client.call({ type: 'REVIVE' })).status).toBe(202);
    const rescinded = () => new Set(this.events.filter((e) => e.type === 'RESCIND').map((e) => e.rescind!.offer_id.value));
    const fresh = (o: JsonOffer) => !this.used.has(o.id.value) && !rescinded().has(o.id.value);
    const event = await this.client.next((e) => e.type === 'OFFERS' && e.offers!.offers.some(fresh));
    const offer = event.offers!.offers.find(fresh)!;
    this.used.add(offer.id.value);
    return offer;
  }

  /** Offers held and not used: declined, so the agent can go to the others. */
  async declineHeld(refuseSeconds = 0): Promise<void> {
    const ids = this.events.flatMap((e) => e.offers?.offers ?? []).map((o) => o.id.value).filter((id) => !this.used.has(id));
    ids.forEach((id) => this.used.add(id));
    if (ids.length === 0) return;
    const answer = await this.client.call({ type: 'DECLINE', decline: { offer_ids: ids.map((value) => ({ value })), filters: { refuse_seconds: refuseSeconds } } });
    expect(answer.status).toBe(202);
  }

  /** Done for now, as a scheduler should be: no more offers (SUPPRESS), and those held go back. */
  async idle(): Promise<void> {
    expect((await this.client.call({ type: 'SUPPRESS' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 200)); // Offers already on their way.
    await this.declineHeld();
  }

  launch(offer: JsonOffer, tasks: object[]) {
    return this.client.call({
      type: 'ACCEPT',
      accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters: { refuse_seconds: 0 } },
    });
  }

  /** Waits for a task to reach `state`, acknowledging every update with a uuid on the way (each ACKNOWLEDGE must be 202). */
  async stateOf(taskId: string, state: string, timeoutMs = 30_000): Promise<JsonStatus> {
    const ev = await this.client.next((e) => {
      void this.ackAll();
      return e.type === 'UPDATE' && e.update!.status.task_id.value === taskId && e.update!.status.state === state;
    }, timeoutMs);
    await this.ackAll();
    return ev.update!.status;
  }

  async ackAll(): Promise<void> {
    for (const e of this.events) {
      const answer = e.update ? await this.client.acknowledge(e.update.status) : null;
      if (answer) expect(answer.status).toBe(202);
    }
  }

  updatesOf(taskId: string): string[] {
    return this.events.filter((e) => e.type === 'UPDATE' && e.update!.status.task_id.value === taskId && !e.update!.status.reason?.includes('RECONCILIATION'))
      .map((e) => e.update!.status.state);
  }
}

/** A shell command task in the test image, in Mesos's JSON shape. */
function containerTask(id: string, offer: JsonOffer, command: string, resources = 'cpus:0.1;mem:32'): object {
  return {
    name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: Resources.parse(resources).toProto(),
    command: { value: command, shell: true }, container: { type: 'DOCKER', docker: { image: TEST_IMAGE } },
  };
}

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:1024;disk:1024;ports:[31300-31309]'] });
  grpcScheduler = new RawScheduler(cluster.master.grpcAddress);
  grpcScheduler.autoAcknowledge = true;
  await grpcScheduler.subscribe({ name: 'grpc-neighbour', user: 'root', capabilities: CAPABILITIES });
  await grpcScheduler.call('Suppress', { type: 'SUPPRESS' });
  for (const encoding of ['json', 'protobuf'] as const) {
    const fw = new HttpFramework(encoding);
    // Subscribed with offers suppressed: each asks with REVIVE when it wants some.
    const event = await fw.client.subscribe({ name: `http-${encoding}`, user: 'root', failover_timeout: 60, capabilities: CAPABILITIES }, { suppressed_roles: ['*'] });
    expect(event.type).toBe('SUBSCRIBED');
    frameworks.set(encoding, fw);
  }
  // Offers the gRPC scheduler got before it suppressed go back.
  await new Promise((r) => setTimeout(r, 300));
  const held = grpcScheduler.events.flatMap((e) => e.offers?.offers ?? []).map((o) => o.id!);
  if (held.length > 0) await grpcScheduler.call('Decline', { type: 'DECLINE', decline: { offer_ids: held, filters: { refuse_seconds: 0 } } });
}, 60_000);

afterAll(async () => {
  for (const fw of frameworks.values()) fw.client.close();
  grpcScheduler?.close();
  await cluster?.stop();
  expect(await containersUnder(cluster.base)).toEqual([]);
});

describe.each(['json', 'protobuf'] as const)('a scheduler over HTTP in %s', (encoding) => {
  const fw = () => frameworks.get(encoding)!;

  it('is offered the agent with its resources', async () => {
    const offer = await fw().nextOffer(true);
    expect(offer.framework_id.value).toBe(fw().client.frameworkId);
    const cpus = offer.resources.find((r) => r.name === 'cpus');
    expect(cpus?.scalar?.value).toBeGreaterThan(0);
    const ports = offer.resources.find((r) => r.name === 'ports');
    expect(ports?.ranges?.range[0]).toMatchObject({ begin: expect.any(Number), end: 31309 });
    expect((await fw().client.call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } } })).status).toBe(202);
  });

  it('launches a container task with ACCEPT and follows it to FINISHED, acknowledging each update', async () => {
    const offer = await fw().nextOffer(true);
    const answer = await fw().launch(offer, [containerTask(`hello-${encoding}`, offer, 'echo hi; sleep 0.3')]);
    expect(answer.status).toBe(202);
    expect(answer.body.length).toBe(0);
    const finished = await fw().stateOf(`hello-${encoding}`, 'TASK_FINISHED');
    expect(finished.agent_id!.value).toBe(offer.agent_id.value);
    expect(Buffer.from(finished.uuid!, 'base64').length).toBe(16);
    expect(fw().updatesOf(`hello-${encoding}`)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    // Every update acknowledged: the agent stops resending.
    const agentHttp = cluster.agents[0]!.httpAddress;
    // The agent lists a task among its completed executors once its last update is acknowledged.
    const completed = async () => ((await (await fetch(`http://${agentHttp}/state`)).json()) as { frameworks: { completed_executors: { id: string }[] }[]; completed_frameworks: { completed_executors: { id: string }[] }[] });
    await waitUntil(async () => {
      const state = await completed();
      return [...state.frameworks, ...state.completed_frameworks].some((f) => f.completed_executors.some((e) => e.id === `hello-${encoding}`));
    }, 10_000, 'acknowledgements to reach the agent');
    await fw().idle();
  });

  it('reconciles: explicit for a finished and an unknown task, implicit for a running one; then kills it', async () => {
    const c = fw().client;
    expect((await c.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: `hello-${encoding}` } }, { task_id: { value: 'ghost' } }] } })).status).toBe(202);
    const known = await c.next((e) => e.update?.status.task_id.value === `hello-${encoding}` && e.update.status.reason === 'REASON_RECONCILIATION');
    expect(known.update!.status.state).toBe('TASK_FINISHED');
    expect(known.update!.status.uuid).toBeUndefined();
    expect((await c.next((e) => e.update?.status.task_id.value === 'ghost')).update!.status.state).toBe('TASK_UNKNOWN');

    const offer = await fw().nextOffer(true);
    expect((await fw().launch(offer, [containerTask(`sleeper-${encoding}`, offer, 'sleep 60')])).status).toBe(202);
    await fw().stateOf(`sleeper-${encoding}`, 'TASK_RUNNING');
    expect((await c.call({ type: 'RECONCILE', reconcile: { tasks: [] } })).status).toBe(202);
    const implicit = await c.next((e) => e.update?.status.task_id.value === `sleeper-${encoding}` && e.update.status.reason === 'REASON_RECONCILIATION');
    expect(implicit.update!.status.state).toBe('TASK_RUNNING');

    expect((await c.call({ type: 'KILL', kill: { task_id: { value: `sleeper-${encoding}` }, agent_id: offer.agent_id } })).status).toBe(202);
    await fw().stateOf(`sleeper-${encoding}`, 'TASK_KILLED');
    expect(fw().updatesOf(`sleeper-${encoding}`)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    await fw().idle();
  });

  it('declines with refuse_seconds: the agent comes back only after the filter', async () => {
    const offer = await fw().nextOffer(true);
    const t0 = Date.now();
    expect((await fw().client.call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 1.5 } } })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    await fw().declineHeld(1.5); // Any offer already on its way when the filter was set.
    const again = await fw().nextOffer();
    const waited = Date.now() - t0;
    expect(again.agent_id.value).toBe(offer.agent_id.value);
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(8000);
    expect((await fw().client.call({ type: 'DECLINE', decline: { offer_ids: [again.id], filters: { refuse_seconds: 0 } } })).status).toBe(202);
    await fw().idle();
  });
});

describe('HTTP and gRPC schedulers together', () => {
  it('run tasks side by side on one agent', async () => {
    const json = frameworks.get('json')!;
    const proto = frameworks.get('protobuf')!;
    const seen = grpcScheduler.events.length;
    await grpcScheduler.call('Revive', { type: 'REVIVE' });
    const grpcOffer = await grpcScheduler.next((e) => e.type === 'OFFERS' && grpcScheduler.events.indexOf(e) >= seen);
    await grpcScheduler.call('Suppress', { type: 'SUPPRESS' });
    const offer = grpcOffer.offers!.offers[0]!;
    await grpcScheduler.launch(offer, [commandTask('grpc-task', offer, 'sleep 1')]);
    // Each launches as soon as it holds an offer: what it leaves goes on to the next.
    const launchOne = async (fw: HttpFramework, taskId: string) => {
      const offer = await fw.nextOffer(true);
      expect((await fw.launch(offer, [containerTask(taskId, offer, 'sleep 1')])).status).toBe(202);
    };
    await Promise.all([launchOne(json, 'side-json'), launchOne(proto, 'side-protobuf')]);
    await Promise.all([
      json.stateOf('side-json', 'TASK_FINISHED'),
      proto.stateOf('side-protobuf', 'TASK_FINISHED'),
      grpcScheduler.next((e) => e.update?.status?.task_id?.value === 'grpc-task' && e.update.status.state === 'TASK_FINISHED', 30_000),
    ]);
    const st: any = await (await fetch(`http://${cluster.master.httpAddress}/state`)).json();
    expect(st.frameworks.map((f: { name: string }) => f.name).sort()).toEqual(['grpc-neighbour', 'http-json', 'http-protobuf']);
    await Promise.all([json.idle(), proto.idle()]);
    const grpcHeld = grpcScheduler.events.slice(seen).flatMap((e) => e.offers?.offers ?? []).map((o) => o.id!).filter((id) => id.value !== offer.id!.value);
    if (grpcHeld.length > 0) await grpcScheduler.call('Decline', { type: 'DECLINE', decline: { offer_ids: grpcHeld, filters: { refuse_seconds: 0 } } });
  });

  it('TEARDOWN over HTTP ends the stream and kills the framework\'s tasks; the others carry on', async () => {
    const fw = frameworks.get('json')!;
    const offer = await fw.nextOffer(true);
    expect((await fw.launch(offer, [containerTask('doomed', offer, 'sleep 60')])).status).toBe(202);
    await fw.stateOf('doomed', 'TASK_RUNNING');
    expect((await fw.client.call({ type: 'TEARDOWN' })).status).toBe(202);
    await fw.client.streamEnded();
    await waitUntil(async () => (await containersUnder(cluster.base)).every((c) => c.Labels['mesos-ts.task_id'] !== 'doomed'), 15_000, 'the task container to go');
    const st: any = await (await fetch(`http://${cluster.master.httpAddress}/state`)).json();
    expect(st.completed_frameworks.map((f: { id: string }) => f.id)).toContain(fw.client.frameworkId);
    expect(st.frameworks.map((f: { name: string }) => f.name).sort()).toEqual(['grpc-neighbour', 'http-protobuf']);
    // The protobuf scheduler still works.
    const proto = frameworks.get('protobuf')!;
    expect(proto.client.ended).toBe(false);
    expect((await proto.client.call({ type: 'REVIVE' })).status).toBe(202);
  });
});
