// The agent's Mesos endpoints with a real master, agent and containers:
// /state, /flags, /version, /monitor/statistics, /containers and /files/*
// shaped as a Mesos 1.11 agent shapes them (checked against the fixtures in
// test/fixtures/mesos-shapes/), usage read from the task's cgroup, the
// sandbox and nothing else served, the v1 agent API in JSON and protobuf,
// and the TaskStatus fields the agent sets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Root } from 'protobufjs';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { PROTO_DIR, type OfferOut, type TaskStatusOut } from '../../proto/index.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { removeContainersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { loadShape, shapeErrors } from '../harness/json-shape.js';

const base = mkdtempSync(join(tmpdir(), 'mesos-ts-endpoints-'));
const MEM_MB = 64;
let master: RunningMaster;
let agent: RunningAgent;
let s: RawScheduler;
let running: TaskStatusOut;

const url = (path: string) => `http://${agent.httpAddress}${path}`;
const getJson = async (path: string): Promise<any> => {
  const res = await fetch(url(path));
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type'), path).toBe('application/json');
  return res.json();
};
const sandbox = () => join(agent.workDir, 'sandboxes', s.frameworkId, 'busy');

beforeAll(async () => {
  master = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1 }, () => {});
  agent = await startAgent({
    master: master.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: 'cpus:2;mem:512;disk:10;ports:[31970-31975]',
    attributes: 'rack:r1;level:3', docker_pull: 'never', kill_grace_period: 1, status_update_retry_interval: 1, log: () => {},
  });
  await waitUntil(() => agent.agentId() !== null, 15_000, 'the agent to register');
  s = new RawScheduler(master.grpcAddress);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'endpoints', user: 'root' });
  const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0] as OfferOut;
  // Busy on the CPU, with a file of its own in the sandbox's neighbourhood to read back.
  await s.launch(offer, [commandTask('busy', offer, 'echo hello-from-busy; echo oops >&2; while :; do :; done', `cpus:0.5;mem:${MEM_MB}`)]);
  running = (await s.next(isUpdate('busy', 'TASK_RUNNING'), 30_000)).update!.status as TaskStatusOut;
  await waitUntil(() => readFileSync(join(sandbox(), 'stdout'), 'utf8').includes('hello-from-busy'), 10_000, 'the task to print');
}, 90_000);

afterAll(async () => {
  s?.close();
  await agent?.stop({ killTasks: true });
  await master?.stop();
  await removeContainersUnder(base);
  rmSync(base, { recursive: true, force: true });
});

describe('the agent as a Mesos agent', () => {
  it('sets the TaskStatus fields a Mesos agent sets', () => {
    expect(running.executor_id?.value).toBe('busy');
    expect(running.agent_id?.value).toBe(agent.agentId());
    expect(running.source).toBe('SOURCE_EXECUTOR');
    expect(running.timestamp).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(running.container_status?.network_infos?.[0]?.ip_addresses?.[0]?.ip_address).toBe('127.0.0.1');
    expect(running.container_status?.executor_pid).toBeGreaterThan(1);
    expect(running.container_status?.container_id?.value).toMatch(/^[0-9a-f]{64}$/);
  });

  it('serves /state as Mesos shapes it, the task in its executor with its sandbox', async () => {
    const state = await getJson('/state');
    expect(shapeErrors(state, loadShape('agent-state'), '$', new Set(['$.work_dir']))).toEqual([]);
    expect(await getJson('/state.json')).toEqual(state);
    expect(await getJson('/slave(1)/state')).toEqual(state);
    const jsonp = await fetch(url('/slave(1)/state?jsonp=angular.callbacks._0'));
    expect(jsonp.headers.get('content-type')).toBe('text/javascript');
    expect(await jsonp.text()).toBe(`angular.callbacks._0(${JSON.stringify(state)});`);
    expect((await fetch(url('/state?jsonp=alert(1)//'))).status).toBe(400);
    expect(state.id).toBe(agent.agentId());
    expect(state.pid).toBe(`slave(1)@${agent.httpAddress}`);
    expect(state.resources).toEqual({ cpus: 2, gpus: 0, mem: 512, disk: 10, ports: '[31970-31975]' });
    expect(state.attributes).toEqual({ rack: 'r1', level: 3 });
    expect(state.flags.work_dir).toBe(agent.workDir);
    expect(state.flags.kill_grace_period).toBe('1secs');
    const executor = state.frameworks[0].executors[0];
    expect(executor).toMatchObject({ id: 'busy', source: 'busy', directory: sandbox(), container: running.container_status!.container_id!.value });
    expect(executor.tasks[0]).toMatchObject({ id: 'busy', state: 'TASK_RUNNING', slave_id: agent.agentId(), resources: { cpus: 0.5, mem: MEM_MB } });
    expect(executor.tasks[0].statuses.map((st: { state: string }) => st.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
  });

  it('serves /flags, /version and /health', async () => {
    const flags = await getJson('/flags');
    expect(shapeErrors(flags, loadShape('agent-flags'))).toEqual([]);
    expect(flags.flags.docker_pull).toBe('never');
    expect(shapeErrors(await getJson('/version'), loadShape('agent-version'))).toEqual([]);
    const health = await fetch(url('/health'));
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');
  });

  it('reports the container\'s limits and a growing CPU time in /monitor/statistics, read from its cgroup', async () => {
    const stats = async () => {
      const all = await getJson('/monitor/statistics');
      expect(shapeErrors(all, loadShape('agent-monitor-statistics'))).toEqual([]);
      return all.find((e: { executor_id: string }) => e.executor_id === 'busy');
    };
    const first = await stats();
    expect(first).toMatchObject({ executor_id: 'busy', framework_id: s.frameworkId, source: 'busy' });
    expect(first.statistics.mem_limit_bytes).toBe(MEM_MB * 1024 * 1024);
    expect(first.statistics.cpus_limit).toBeCloseTo(0.5, 6);
    expect(first.statistics.mem_rss_bytes).toBeGreaterThan(0);
    const cpu = (e: any) => e.statistics.cpus_user_time_secs + e.statistics.cpus_system_time_secs;
    let later = first;
    // Busy at up to 0.5 cpus: 0.3 cpu-seconds more within 1 s or so (more on a loaded machine).
    await waitUntil(async () => cpu((later = await stats())) > cpu(first) + 0.3, 10_000, 'the task to use the CPU');
    expect(later.statistics.cpus_user_time_secs).toBeGreaterThan(first.statistics.cpus_user_time_secs);
    expect(later.statistics.timestamp).toBeGreaterThan(first.statistics.timestamp);
  });

  it('serves /containers with each container\'s status and usage, filtered as Mesos filters', async () => {
    const all = await getJson('/containers');
    expect(shapeErrors(all, loadShape('agent-containers'))).toEqual([]);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      container_id: running.container_status!.container_id!.value, executor_id: 'busy', framework_id: s.frameworkId,
      status: { executor_pid: running.container_status!.executor_pid, network_infos: [{ ip_addresses: [{ ip_address: '127.0.0.1' }] }] },
    });
    expect(await getJson(`/containers?framework_id=nope`)).toEqual([]);
    expect(await getJson(`/containers?framework_id=${s.frameworkId}&executor_id=busy`)).toHaveLength(1);
    expect((await fetch(url('/containers?executor_id=busy'))).status).toBe(400);
  });

  it('browses, reads and downloads the sandbox by its directory and by Mesos\'s virtual path, and nothing outside it', async () => {
    const dir = sandbox();
    const listing = await getJson(`/files/browse?path=${encodeURIComponent(dir)}`);
    expect(listing.map((f: { path: string }) => f.path)).toEqual([`${dir}/stderr`, `${dir}/stdout`]);
    expect(listing[1]).toMatchObject({ nlink: 1, mode: '-rw-r--r--' });
    expect(typeof listing[1].mtime).toBe('number');
    const virtual = `/frameworks/${s.frameworkId}/executors/busy/runs/latest`;
    expect((await getJson(`/files/browse?path=${encodeURIComponent(virtual)}`)).map((f: { path: string }) => f.path)).toEqual([`${virtual}/stderr`, `${virtual}/stdout`]);
    expect((await getJson('/files/debug'))[virtual]).toBe(dir);
    const onDisk = join(agent.workDir, 'slaves', agent.agentId()!, `frameworks/${s.frameworkId}/executors/busy/runs/latest/stdout`);
    const stdout = readFileSync(join(dir, 'stdout'), 'utf8');
    // No offset: the size only; an offset: the data from there; past the end: nothing.
    expect(await getJson(`/files/read?path=${encodeURIComponent(`${virtual}/stdout`)}`)).toEqual({ data: '', offset: stdout.length });
    expect(await getJson(`/files/read?path=${encodeURIComponent(onDisk)}&offset=0&length=5`)).toEqual({ data: 'hello', offset: 0 });
    expect(await getJson(`/files/read?path=${encodeURIComponent(`${dir}/stdout`)}&offset=6`)).toEqual({ data: stdout.slice(6), offset: 6 });
    expect(await getJson(`/files/read?path=${encodeURIComponent(`${dir}/stdout`)}&offset=999999`)).toEqual({ data: '', offset: 999999 });
    const download = await fetch(url(`/files/download?path=${encodeURIComponent(`${virtual}/stderr`)}`));
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('oops\n');
    const status = async (path: string) => (await fetch(url(path))).status;
    expect(await status(`/files/read?path=${encodeURIComponent('/etc/passwd')}&offset=0`)).toBe(404);
    expect(await status(`/files/download?path=${encodeURIComponent('/etc/passwd')}`)).toBe(404);
    expect(await status(`/files/browse?path=${encodeURIComponent('/etc')}`)).toBe(404);
    expect(await status(`/files/read?path=${encodeURIComponent(`${dir}/../../../meta/agent.json`)}&offset=0`)).toBe(400);
    expect(await status(`/files/read?path=${encodeURIComponent(`${virtual}/../../../meta/agent.json`)}&offset=0`)).toBe(400);
    expect(await getJson(`/files/browse?path=${encodeURIComponent(`${dir}/stdout`)}`)).toEqual([]); // A file lists as nothing, as in Mesos.
    expect(await status(`/files/read?path=${encodeURIComponent(dir)}&offset=0`)).toBe(400); // A directory.
    expect(await status(`/files/download?path=${encodeURIComponent(dir)}`)).toBe(400);
    expect(await status('/files/read?offset=0')).toBe(400);
    expect(await status(`/files/read?path=${encodeURIComponent(`${dir}/stdout`)}&offset=abc`)).toBe(400);
  });
});

describe('the v1 agent API', () => {
  const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');
  const root: Root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : PROTO_DIR + target);
  root.loadSync(['mesos/v1/agent/agent.proto'], { keepCase: true });
  const CALL = root.lookupType('mesos.v1.agent.Call');
  const RESPONSE = root.lookupType('mesos.v1.agent.Response');

  const post = (body: string | Uint8Array, contentType: string, accept = contentType) =>
    fetch(url('/api/v1'), { method: 'POST', headers: { 'Content-Type': contentType, Accept: accept }, body });
  const callJson = async (call: object): Promise<any> => {
    const res = await post(JSON.stringify(call), 'application/json');
    expect(res.status, JSON.stringify(call)).toBe(200);
    return res.json();
  };
  const callProto = async (call: object): Promise<any> => {
    const res = await post(CALL.encode(CALL.fromObject(call)).finish(), 'application/x-protobuf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    return RESPONSE.toObject(RESPONSE.decode(new Uint8Array(await res.arrayBuffer())), { enums: String, longs: Number });
  };

  it('answers the read-only calls in JSON', async () => {
    expect(await callJson({ type: 'GET_HEALTH' })).toEqual({ type: 'GET_HEALTH', get_health: { healthy: true } });
    const flags = (await callJson({ type: 'GET_FLAGS' })).get_flags.flags;
    expect(flags).toContainEqual({ name: 'docker_pull', value: 'never' });
    expect((await callJson({ type: 'GET_VERSION' })).get_version.version_info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await callJson({ type: 'GET_AGENT' })).get_agent.agent_info).toMatchObject({ id: { value: agent.agentId() }, hostname: '127.0.0.1', port: Number(agent.httpAddress.split(':')[1]) });
    const state = (await callJson({ type: 'GET_STATE' })).get_state;
    expect(state.get_tasks.launched_tasks.map((t: any) => [t.task_id.value, t.state])).toEqual([['busy', 'TASK_RUNNING']]);
    expect(state.get_executors.executors[0].executor_info.executor_id.value).toBe('busy');
    expect(state.get_frameworks.frameworks[0].framework_info.id.value).toBe(s.frameworkId);
    const containers = (await callJson({ type: 'GET_CONTAINERS' })).get_containers.containers;
    expect(containers[0]).toMatchObject({
      executor_id: { value: 'busy' }, container_id: { value: running.container_status!.container_id!.value },
      container_status: { executor_pid: running.container_status!.executor_pid }, resource_statistics: { mem_limit_bytes: MEM_MB * 1024 * 1024 },
    });
    const dir = sandbox();
    const files = (await callJson({ type: 'LIST_FILES', list_files: { path: dir } })).list_files.file_infos;
    expect(files.map((f: { path: string }) => f.path)).toEqual([`${dir}/stderr`, `${dir}/stdout`]);
    const read = (await callJson({ type: 'READ_FILE', read_file: { path: `${dir}/stdout`, offset: 0, length: 5 } })).read_file;
    expect(Buffer.from(read.data, 'base64').toString()).toBe('hello');
    expect(read.size).toBe(readFileSync(join(dir, 'stdout')).length);
  });

  it('answers the same calls in protobuf', async () => {
    expect(await callProto({ type: 'GET_HEALTH' })).toMatchObject({ type: 'GET_HEALTH', get_health: { healthy: true } });
    const state = (await callProto({ type: 'GET_STATE' })).get_state;
    expect(state.get_tasks.launched_tasks[0].container ? 'container' : 'none').toBe('container');
    expect(state.get_tasks.launched_tasks[0].statuses.at(-1).container_status.executor_pid).toBe(running.container_status!.executor_pid);
    const read = (await callProto({ type: 'READ_FILE', read_file: { path: `${sandbox()}/stderr`, offset: 0 } })).read_file;
    expect(Buffer.from(read.data).toString()).toBe('oops\n');
    const containers = (await callProto({ type: 'GET_CONTAINERS' })).get_containers.containers;
    expect(containers[0].resource_statistics.cpus_limit).toBeCloseTo(0.5, 6);
  });

  it('refuses malformed, unknown and unserved calls with 400 and keeps serving', async () => {
    const refused = async (res: Response, text: RegExp) => {
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(text);
    };
    await refused(await post('{"type": "GET_HEALTH"', 'application/json'), /Failed to parse body into JSON/);
    await refused(await post(new Uint8Array([0xff, 0xff, 0xff]), 'application/x-protobuf'), /Failed to parse body into Call protobuf/);
    await refused(await post('{"type": "GET_EVERYTHING"}', 'application/json'), /GET_EVERYTHING.*not a call of the v1 agent API/);
    await refused(await post('{}', 'application/json'), /Call.type is required/);
    await refused(await post('{"type": "LAUNCH_CONTAINER"}', 'application/json'), /LAUNCH_CONTAINER is a call of Mesos's agent API that mesos-ts does not serve/);
    await refused(await post('{"type": "READ_FILE", "read_file": {"path": "/etc/passwd"}}', 'application/json'), /offset/);
    expect((await post('{"type": "READ_FILE", "read_file": {"path": "/etc/passwd", "offset": 0}}', 'application/json')).status).toBe(404);
    expect((await post('{"type": "GET_HEALTH"}', 'text/plain')).status).toBe(415);
    expect((await fetch(url('/api/v1'))).status).toBe(405);
    expect((await callJson({ type: 'GET_HEALTH' })).get_health.healthy).toBe(true);
  });
});

describe('once the task has ended', () => {
  it('lists it among the completed executors, still shaped as Mesos, its sandbox still reachable', async () => {
    await s.call('Kill', { type: 'KILL', kill: { task_id: { value: 'busy' } } });
    await s.next(isUpdate('busy', 'TASK_KILLED'), 15_000);
    let state: any;
    await waitUntil(async () => {
      state = await getJson('/state');
      return state.completed_frameworks.length === 1; // The framework's last task, acknowledged.
    }, 15_000, 'the task to be completed on the agent');
    expect(shapeErrors(state, loadShape('agent-state'), '$', new Set(['$.work_dir']))).toEqual([]);
    expect(state.frameworks).toEqual([]);
    const executor = state.completed_frameworks[0].completed_executors[0];
    expect(executor).toMatchObject({ id: 'busy', tasks: [], queued_tasks: [], directory: sandbox() });
    expect(executor.completed_tasks[0].statuses.map((st: { state: string }) => st.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    expect(await getJson('/monitor/statistics')).toEqual([]);
    expect(await getJson('/containers')).toEqual([]);
    const virtual = `/frameworks/${s.frameworkId}/executors/busy/runs/latest/stderr`;
    expect(await getJson(`/files/read?path=${encodeURIComponent(virtual)}&offset=0`)).toEqual({ data: 'oops\n', offset: 0 });
    const tasks = (await (await fetch(url('/api/v1'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type": "GET_TASKS"}' })).json()) as any;
    expect(tasks.get_tasks.completed_tasks.map((t: any) => [t.task_id.value, t.state])).toEqual([['busy', 'TASK_KILLED']]);
  });
});
