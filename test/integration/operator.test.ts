// The operator surface against a real cluster: an in-process master, a real
// agent running containers, a scheduler speaking the raw protocol. What the
// test does (two tasks run, one finishes, one is killed, an agent joins) must
// show in the metrics (JSON and Prometheus, master and agent), in the
// operator event stream (gRPC Subscribe, in order) and in GetState, which
// must agree with /state. Bad operator calls get 4xx with a message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startCluster, containersUnder, type TestCluster } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';
import { grpcObject, type OperatorClient, type OperatorEventOut, type OfferOut } from '../../proto/index.js';
import type { Response__Output } from '../../proto/gen/mesos/v1/master/Response.js';
import { parsePrometheus } from '../harness/prometheus.js';

let cluster: TestCluster;
let s: RawScheduler;
let operator: OperatorClient;
const events: OperatorEventOut[] = [];
let stream: grpc.ClientReadableStream<OperatorEventOut>;

beforeAll(async () => {
  cluster = await startCluster({ agents: ['cpus:2;mem:512;disk:1024;ports:[31300-31309]'], master: { heartbeat_interval: 0.5 } });
  operator = new grpcObject.mesos_ts.operator.Operator(cluster.master.grpcAddress, grpc.credentials.createInsecure()) as unknown as OperatorClient;
  // Subscribed before the framework exists: everything the test does is in the stream.
  stream = operator.Subscribe({});
  stream.on('data', (e: OperatorEventOut) => events.push(e));
  stream.on('error', () => {});
  await waitUntil(() => events.length > 0, 5000, 'SUBSCRIBED');
  s = new RawScheduler(cluster.master.grpcAddress);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'operator-test', user: 'root', failover_timeout: 60, capabilities: [{ type: 'TASK_KILLING_STATE' }] });
}, 60_000);

afterAll(async () => {
  stream?.cancel();
  operator?.close();
  s?.close();
  await cluster?.stop();
  expect(await containersUnder(cluster.base)).toEqual([]);
});

const http = () => `http://${cluster.master.httpAddress}`;
/** JSON read loosely, as the master-api test reads /state. */
const json = async (res: Response | Promise<Response>): Promise<any> => (await res).json();
const snapshot = async (address = cluster.master.httpAddress): Promise<Record<string, number>> => json(fetch(`http://${address}/metrics/snapshot`));
const unary = (method: string, call: object = {}): Promise<Response__Output> =>
  new Promise((resolve, reject) =>
    (operator as unknown as Record<string, Function>)[method]!.call(operator, call, (err: Error | null, res: Response__Output) => (err ? reject(err) : resolve(res))),
  );
/** A Buffer body: fetch adds no Content-Type of its own. */
const apiV1 = (body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }, method = 'POST') =>
  fetch(`${http()}/api/v1`, { method, headers, ...(method === 'POST' ? { body: Buffer.from(body) } : {}) });

/** "TASK_UPDATED short TASK_RUNNING"-style lines of the stream, for the tasks named. */
function taskEvents(...ids: string[]): string[] {
  return events.flatMap((e) => {
    if (e.type === 'TASK_ADDED' && ids.includes(e.task_added!.task!.task_id!.value)) return [`TASK_ADDED ${e.task_added!.task!.task_id!.value} ${e.task_added!.task!.state}`];
    if (e.type === 'TASK_UPDATED' && ids.includes(e.task_updated!.status!.task_id!.value)) {
      return [`TASK_UPDATED ${e.task_updated!.status!.task_id!.value} ${e.task_updated!.state}`];
    }
    return [];
  });
}

let offer: OfferOut;

describe('operator API and metrics on a real cluster', () => {
  it('starts the stream with SUBSCRIBED holding the agent, then FRAMEWORK_ADDED', async () => {
    const first = events[0]!;
    expect(first.type).toBe('SUBSCRIBED');
    expect(first.subscribed!.heartbeat_interval_seconds).toBe(0.5);
    const agents = first.subscribed!.get_state!.get_agents!.agents;
    expect(agents.map((a) => a.agent_info!.id!.value)).toEqual([cluster.agents[0]!.agentId()]);
    await waitUntil(() => events.some((e) => e.type === 'FRAMEWORK_ADDED'), 5000, 'FRAMEWORK_ADDED');
    const added = events.find((e) => e.type === 'FRAMEWORK_ADDED')!.framework_added!.framework!;
    expect(added.framework_info!.id!.value).toBe(s.frameworkId);
    expect(added.framework_info!.name).toBe('operator-test');
    expect(added.connected).toBe(true);
  });

  it('counts two tasks run and one finished in /metrics/snapshot, cumulatively', async () => {
    const ev = await s.next((e) => e.type === 'OFFERS');
    offer = ev.offers!.offers[0]!;
    await s.launch(offer, [commandTask('long', offer, 'sleep 60', 'cpus:0.3;mem:64'), commandTask('short', offer, 'sleep 0.5', 'cpus:0.2;mem:32')]);
    await s.next((e) => e.update?.status?.task_id?.value === 'short' && e.update.status.state === 'TASK_FINISHED', 30_000);
    await s.next((e) => e.update?.status?.task_id?.value === 'long' && e.update.status.state === 'TASK_RUNNING', 30_000);
    await waitUntil(async () => (await snapshot())['master/tasks_finished'] === 1, 5000, 'tasks_finished 1');
    const m = await snapshot();
    expect(m['master/tasks_running']).toBe(1);
    expect(m['master/tasks_finished']).toBe(1);
    expect(m['master/tasks_staging']! + m['master/tasks_starting']!).toBe(0);
    expect(m['master/cpus_total']).toBe(2);
    expect(m['master/mem_total']).toBe(512);
    expect(m['master/cpus_used']).toBeCloseTo(0.3);
    expect(m['master/mem_used']).toBe(64);
    expect(m['master/cpus_percent']).toBeCloseTo(0.15);
    expect(m['master/slaves_active']).toBe(1);
    expect(m['master/frameworks_active']).toBe(1);
    expect(m['master/elected']).toBe(1);
    expect(m['master/messages_launch_tasks']).toBe(1);
    expect(m['master/messages_register_framework']).toBe(1);
    expect(m['master/messages_status_update']).toBeGreaterThanOrEqual(5); // STARTING, RUNNING x2, FINISHED
    expect(m['allocator/mesos/allocation_runs']).toBeGreaterThan(0);
    expect(m['master/operator_event_stream_subscribers']).toBe(1);
  });

  it('serves the same values in Prometheus exposition at /metrics', async () => {
    const res = await fetch(`${http()}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { values, types } = parsePrometheus(await res.text());
    const m = await snapshot();
    for (const name of ['tasks_running', 'tasks_finished', 'cpus_used', 'mem_used', 'cpus_total', 'slaves_active', 'frameworks_active']) {
      expect(values.get(`mesos_master_${name}`), name).toBeCloseTo(m[`master/${name}`]!);
    }
    expect(types.get('mesos_master_tasks_finished')).toBe('counter');
    expect(types.get('mesos_master_tasks_running')).toBe('gauge');
  });

  it("reports the agent's own metrics", async () => {
    const address = cluster.agents[0]!.httpAddress;
    const m = await snapshot(address);
    expect(m['slave/registered']).toBe(1);
    expect(m['slave/tasks_running']).toBe(1);
    expect(m['slave/tasks_finished']).toBe(1); // Cumulative: counted when it ended, kept after it is forgotten.
    expect(m['slave/cpus_total']).toBe(2);
    expect(m['slave/cpus_used']).toBeCloseTo(0.3);
    expect(m['slave/mem_used']).toBe(64);
    expect(m['slave/uptime_secs']).toBeGreaterThan(0);
    const { values } = parsePrometheus(await (await fetch(`http://${address}/metrics`)).text());
    expect(values.get('mesos_slave_tasks_running')).toBe(1);
    expect(values.get('mesos_slave_mem_total')).toBe(512);
  });

  it('streams TASK_ADDED then each TASK_UPDATED in order, each with its status', async () => {
    await waitUntil(() => taskEvents('short').length === 4, 5000, "short's events");
    expect(taskEvents('short')).toEqual([
      'TASK_ADDED short TASK_STAGING', 'TASK_UPDATED short TASK_STARTING', 'TASK_UPDATED short TASK_RUNNING', 'TASK_UPDATED short TASK_FINISHED',
    ]);
    expect(taskEvents('long')).toEqual(['TASK_ADDED long TASK_STAGING', 'TASK_UPDATED long TASK_STARTING', 'TASK_UPDATED long TASK_RUNNING']);
    const finished = events.find((e) => e.type === 'TASK_UPDATED' && e.task_updated!.state === 'TASK_FINISHED')!.task_updated!;
    expect(finished.framework_id!.value).toBe(s.frameworkId);
    expect(finished.status!.state).toBe('TASK_FINISHED');
    expect(finished.status!.agent_id!.value).toBe(offer.agent_id!.value);
    const added = events.findIndex((e) => e.type === 'FRAMEWORK_ADDED');
    const firstTask = events.findIndex((e) => e.type === 'TASK_ADDED');
    expect(added).toBeLessThan(firstTask);
  });

  it('streams AGENT_ADDED when an agent joins, and lists it in GetAgents', async () => {
    const second = await cluster.addAgent('cpus:1;mem:256;disk:512;ports:[31310-31319]');
    await waitUntil(() => events.some((e) => e.type === 'AGENT_ADDED'), 5000, 'AGENT_ADDED');
    const added = events.find((e) => e.type === 'AGENT_ADDED')!.agent_added!.agent!;
    expect(added.agent_info!.id!.value).toBe(second.agentId());
    expect(added.active).toBe(true);
    const agents = (await unary('GetAgents')).get_agents!.agents;
    expect(agents.map((a) => a.agent_info!.id!.value).sort()).toEqual([cluster.agents[0]!.agentId(), second.agentId()].sort());
    await waitUntil(async () => (await snapshot())['master/slaves_active'] === 2, 5000, 'slaves_active 2');
    expect((await snapshot())['master/cpus_total']).toBe(3);
  });

  it('answers GetState consistently with /state', async () => {
    const state = (await unary('GetState')).get_state!;
    const legacy = await json(fetch(`${http()}/state`));
    const ids = (list: { id: string }[]) => list.map((x) => x.id).sort();
    expect(state.get_agents!.agents.map((a) => a.agent_info!.id!.value).sort()).toEqual(ids(legacy.slaves));
    expect(state.get_frameworks!.frameworks.map((f) => f.framework_info!.id!.value)).toEqual(ids(legacy.frameworks));
    const live = state.get_tasks!.tasks.filter((t) => !['TASK_FINISHED', 'TASK_KILLED'].includes(t.state));
    // /master/state keeps a terminal task among `tasks` until its last update is acknowledged, as Mesos does.
    const legacyTasks = legacy.frameworks.flatMap((f: { tasks: { id: string; state: string }[] }) => f.tasks).filter((t: { state: string }) => !['TASK_FINISHED', 'TASK_KILLED'].includes(t.state));
    expect(live.map((t) => `${t.task_id!.value}:${t.state}`).sort()).toEqual(legacyTasks.map((t: { id: string; state: string }) => `${t.id}:${t.state}`).sort());
    const completed = [...state.get_tasks!.tasks, ...state.get_tasks!.completed_tasks].find((t) => t.task_id!.value === 'short')!;
    expect(completed.state).toBe('TASK_FINISHED');
    const agent = state.get_agents!.agents.find((a) => a.agent_info!.id!.value === offer.agent_id!.value)!;
    const used = legacy.slaves.find((a: { id: string }) => a.id === offer.agent_id!.value).used_resources;
    expect(agent.allocated_resources.find((r) => r.name === 'cpus')!.scalar!.value).toBeCloseTo(used.cpus);
  });

  it('answers the v1 operator HTTP API as the gRPC service does', async () => {
    const res = await apiV1('{"type": "GET_TASKS"}');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await json(res);
    expect(body.type).toBe('GET_TASKS');
    const grpcTasks = (await unary('GetTasks')).get_tasks!;
    const ids = (list: { task_id: { value: string } }[] | undefined) => (list ?? []).map((t) => t.task_id.value).sort();
    expect(ids(body.get_tasks.tasks)).toEqual(ids(grpcTasks.tasks as { task_id: { value: string } }[]));
    const roles = await json(apiV1('{"type": "GET_ROLES"}'));
    const star = roles.get_roles.roles.find((r: { name: string }) => r.name === '*');
    expect(star.weight).toBe(1);
    expect(star.frameworks).toEqual([{ value: s.frameworkId }]);
    const health = await json(apiV1('{"type": "GET_HEALTH"}'));
    expect(health).toEqual({ type: 'GET_HEALTH', get_health: { healthy: true } });
    const metrics = await json(apiV1('{"type": "GET_METRICS"}'));
    expect(metrics.get_metrics.metrics.find((x: { name: string }) => x.name === 'master/tasks_finished').value).toBe(1);
  });

  it('refuses bad operator calls with 4xx and a message', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [apiV1('{"type": "GET_EVERYTHING"}'), 400, /Call.type "GET_EVERYTHING" is not a call of the v1 master API/],
      [apiV1('{"type": '), 400, /Failed to parse body into JSON/],
      [apiV1('{}'), 400, /Call.type is required/],
      [apiV1('{"type": "GET_STATE", "get_metrics": 7}'), 400, /Call.get_metrics/],
      [apiV1('type=GET_STATE', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, /Expecting 'Content-Type' of application\/json or application\/x-protobuf/],
      [apiV1('{"type": "GET_STATE"}', {}), 400, /Content-Type/],
      [apiV1('', {}, 'GET'), 405, /Expecting 'POST'/],
      [apiV1('{"type": "GET_STATE"}', { 'Content-Type': 'application/json', Accept: 'text/html' }), 406, /Accept/],
      [apiV1('{"type": "CREATE_VOLUMES"}'), 501, /CREATE_VOLUMES .* mesos-ts does not serve/],
    ];
    for (const [res, code, message] of cases) {
      const answer = await res;
      expect(answer.status, message.source).toBe(code);
      expect(await answer.text()).toMatch(message);
    }
    const wrongType = await unary('GetState', { type: 'GET_TASKS' }).catch((err: grpc.ServiceError) => err);
    expect((wrongType as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((wrongType as grpc.ServiceError).details).toMatch(/GET_TASKS does not match this method \(GET_STATE\)/);
  });

  it('streams KILLING and KILLED for a killed task and counts it', async () => {
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'long' }, agent_id: offer.agent_id } });
    await waitUntil(() => taskEvents('long').length === 5, 20_000, "long's KILLED");
    expect(taskEvents('long').slice(3)).toEqual(['TASK_UPDATED long TASK_KILLING', 'TASK_UPDATED long TASK_KILLED']);
    await waitUntil(async () => (await snapshot())['master/tasks_killed'] === 1, 5000, 'tasks_killed 1');
    const m = await snapshot();
    expect([m['master/tasks_running'], m['master/tasks_finished'], m['master/cpus_used'], m['master/messages_kill_task']]).toEqual([0, 1, 0, 1]);
  });

  it('streams RecordIO events over HTTP SUBSCRIBE: SUBSCRIBED, then HEARTBEAT', async () => {
    const abort = new AbortController();
    const res = await fetch(`${http()}/api/v1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type": "SUBSCRIBE"}', signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let buffer = '';
    const records: { type: string; subscribed?: { get_state: unknown } }[] = [];
    while (records.length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const length = Number(buffer.slice(0, nl));
        if (buffer.length < nl + 1 + length) break;
        records.push(JSON.parse(buffer.slice(nl + 1, nl + 1 + length)));
        buffer = buffer.slice(nl + 1 + length);
      }
    }
    abort.abort();
    expect(records.map((r) => r.type)).toEqual(['SUBSCRIBED', 'HEARTBEAT']);
    expect(records[0]!.subscribed!.get_state).toHaveProperty('get_agents');
  });

  it('streams FRAMEWORK_REMOVED on teardown, and forgets a subscriber that hangs up', async () => {
    await s.call('Teardown', { type: 'TEARDOWN' });
    await waitUntil(() => events.some((e) => e.type === 'FRAMEWORK_REMOVED'), 5000, 'FRAMEWORK_REMOVED');
    expect(events.find((e) => e.type === 'FRAMEWORK_REMOVED')!.framework_removed!.framework_info!.id!.value).toBe(s.frameworkId);
    expect(events.filter((e) => e.type === 'HEARTBEAT').length).toBeGreaterThan(0);
    stream.cancel();
    await waitUntil(async () => (await snapshot())['master/operator_event_stream_subscribers'] === 0, 5000, 'no subscribers');
  });
});
