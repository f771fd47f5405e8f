// `mesos-ts state | agents | frameworks | tasks | logs` as processes
// (node bin/mesos-ts.js) against real masters: two of them electing a leader
// in a real ZooKeeper, a real agent and container tasks. The tables and the
// --json output must say what the master has; `--master` may name the
// leader, a standby (it redirects) or ZooKeeper. A standby also serves its
// own metrics (master/elected 0) and refuses operator calls naming the leader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startAgent, type RunningAgent } from '../../agent/main.js';
import { startZooKeeper, type TestZooKeeper } from '../harness/zookeeper.js';
import { RawScheduler, commandTask } from '../harness/grpc-scheduler.js';
import { removeContainersUnder } from '../harness/cluster.js';
import { waitUntil } from '../harness/wait-until.js';
import { commandEnv } from '../harness/processes.js';
import { grpcObject, type OperatorClient } from '../../proto/index.js';

const run = promisify(execFile);
const base = mkdtempSync(join(tmpdir(), 'mesos-ts-cli-'));
let zk: TestZooKeeper;
let zkUrl: string;
let leader: RunningMaster;
let standby: RunningMaster;
let agent: RunningAgent;
let s: RawScheduler;

beforeAll(async () => {
  zk = await startZooKeeper();
  zkUrl = `zk://${zk.connectString}/mesos-ts-cli`;
  leader = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 0.1, zk: zkUrl, zk_session_timeout: 5, quiet: true });
  await waitUntil(() => leader.leading(), 15_000, 'the first master to lead');
  standby = await startMaster({ port: 0, grpc_port: 0, zk: zkUrl, zk_session_timeout: 5, quiet: true });
  agent = await startAgent({
    master: leader.grpcAddress, port: 0, work_dir: join(base, 'agent'), resources: 'cpus:2;mem:512;disk:10;ports:[31980-31989]',
    docker_pull: 'never', kill_grace_period: 1, status_update_retry_interval: 1, log: () => {},
  });
  await waitUntil(() => agent.agentId() !== null, 15_000, 'the agent to register');
  s = new RawScheduler(leader.grpcAddress);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'cli-test', user: 'root', roles: ['analytics'], capabilities: [{ type: 'MULTI_ROLE' }] });
  const offer = (await s.next((e) => e.type === 'OFFERS')).offers!.offers[0]!;
  await s.launch(offer, [commandTask('sleeper', offer, 'sleep 60', 'cpus:0.5;mem:64'), commandTask('greeter', offer, 'echo hello from greeter', 'cpus:0.1;mem:32')]);
  await s.next((e) => e.update?.status?.task_id?.value === 'sleeper' && e.update.status.state === 'TASK_RUNNING', 30_000);
  await s.next((e) => e.update?.status?.task_id?.value === 'greeter' && e.update.status.state === 'TASK_FINISHED', 30_000);
  // Its last update acknowledged, the finished task moves to the completed ones.
  await waitUntil(async () => {
    const state = (await (await fetch(`http://${leader.httpAddress}/master/state`)).json()) as { frameworks: { completed_tasks: { id: string }[] }[] };
    return state.frameworks.some((f) => f.completed_tasks.some((t) => t.id === 'greeter'));
  }, 10_000, 'greeter to complete');
}, 90_000);

afterAll(async () => {
  s?.close();
  await agent?.stop({ killTasks: true });
  await standby?.stop();
  await leader?.stop();
  await zk?.stop();
  await removeContainersUnder(base);
  rmSync(base, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/mesos-ts.js', ...args], { env: commandEnv(), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The table's lines split on runs of 2+ spaces (cells never hold two spaces). */
const rows = (stdout: string) => stdout.trimEnd().split('\n').map((line) => line.split(/ {2,}/));

describe('the mesos-ts CLI', () => {
  it('tasks: a table of what the master has, aligned', async () => {
    const { code, stdout } = await cli('tasks', '--master', leader.httpAddress);
    expect(code).toBe(0);
    const [header, ...body] = rows(stdout);
    expect(header).toEqual(['ID', 'FRAMEWORK', 'AGENT', 'STATE', 'CPUS', 'MEM']);
    expect(body).toContainEqual(['sleeper', s.frameworkId, agent.agentId(), 'TASK_RUNNING', '0.5', '64']);
    // The finished task is acknowledged and completed: only --all shows it.
    expect(body.map((r) => r[0])).not.toContain('greeter');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]!.indexOf('STATE')).toBe(lines[1]!.indexOf('TASK_'));
    const all = rows((await cli('tasks', '--all', '--master', leader.httpAddress)).stdout);
    expect(all).toContainEqual(['greeter', s.frameworkId, agent.agentId(), 'TASK_FINISHED', '0.1', '32']);
  });

  it('tasks --json: the operator API answer, for scripts', async () => {
    const { code, stdout } = await cli('tasks', '--json', '--master', leader.httpAddress);
    expect(code).toBe(0);
    const tasks = JSON.parse(stdout);
    const sleeper = tasks.tasks.find((t: { task_id: { value: string } }) => t.task_id.value === 'sleeper');
    expect(sleeper).toMatchObject({ framework_id: { value: s.frameworkId }, agent_id: { value: agent.agentId() }, state: 'TASK_RUNNING' });
  });

  it('agents: id, hostname, active, cpus and mem used/total, tasks', async () => {
    const { stdout } = await cli('agents', '--master', leader.httpAddress);
    expect(rows(stdout)).toEqual([
      ['ID', 'HOSTNAME', 'ACTIVE', 'CPUS', 'MEM', 'TASKS'],
      [agent.agentId(), '127.0.0.1', 'yes', '0.5/2', '64/512', '1'],
    ]);
    const json = JSON.parse((await cli('agents', '--json', '--master', leader.httpAddress)).stdout);
    expect(json.agents.map((a: { agent_info: { id: { value: string } } }) => a.agent_info.id.value)).toEqual([agent.agentId()]);
  });

  it('frameworks: id, name, active, roles, tasks, cpus and mem', async () => {
    const { stdout } = await cli('frameworks', '--master', leader.httpAddress);
    expect(rows(stdout)).toEqual([
      ['ID', 'NAME', 'ACTIVE', 'ROLES', 'TASKS', 'CPUS', 'MEM'],
      [s.frameworkId, 'cli-test', 'yes', 'analytics', '1', '0.5', '64'],
    ]);
  });

  it('state: a summary of the cluster', async () => {
    const { code, stdout } = await cli('state', '--master', leader.httpAddress);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^master +master@${leader.httpAddress.replace(/\./g, '\\.')} \\(version \\S+\\), up \\d+`, 'm'));
    expect(stdout).toMatch(/^agents +1 active of 1$/m);
    expect(stdout).toMatch(/^frameworks +1 active of 1$/m);
    expect(stdout).toMatch(/^tasks +1 running$/m);
    expect(stdout).toMatch(/^ended +1 finished \(since this master started\)$/m);
    expect(stdout).toMatch(/^cpus +0\.5 of 2 allocated \(25%\)$/m);
    expect(stdout).toMatch(/^mem +64 of 512 MB allocated \(12\.5%\)$/m);
    const json = JSON.parse((await cli('state', '--json', '--master', leader.httpAddress)).stdout);
    expect(Object.keys(json).sort()).toEqual(['get_agents', 'get_frameworks', 'get_tasks']);
  });

  it('finds the leader through ZooKeeper, or through a standby that redirects', async () => {
    const viaZk = await cli('agents', '--master', zkUrl);
    expect(viaZk.code).toBe(0);
    expect(viaZk.stdout).toContain(agent.agentId()!);
    const viaStandby = await cli('tasks', '--master', standby.httpAddress);
    expect(viaStandby.code).toBe(0);
    expect(viaStandby.stdout).toContain('sleeper');
  });

  it('logs still finds a task through the shared master lookup', async () => {
    const { code, stdout } = await cli('logs', 'greeter', '--master', zkUrl);
    expect(code).toBe(0);
    expect(stdout).toBe('hello from greeter\n');
  });

  it('says what is wrong with a bad --master or an unreachable one', async () => {
    const bad = await cli('tasks', '--master', 'not-an-address');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--master must be host:port or zk://host:port/path, got 'not-an-address'");
    const down = await cli('agents', '--master', '127.0.0.1:1');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/mesos-ts agents: cannot reach the master at http:\/\/127\.0\.0\.1:1\/api\/v1/);
  });
});

describe('a standby master', () => {
  it('serves its own metrics, with master/elected 0', async () => {
    const standbyMetrics = await (await fetch(`http://${standby.httpAddress}/metrics/snapshot`)).json() as Record<string, number>;
    const leaderMetrics = await (await fetch(`http://${leader.httpAddress}/metrics/snapshot`)).json() as Record<string, number>;
    expect(standbyMetrics['master/elected']).toBe(0);
    expect(standbyMetrics['master/slaves_active']).toBe(0);
    expect(leaderMetrics['master/elected']).toBe(1);
    expect(leaderMetrics['master/slaves_active']).toBe(1);
    expect(await (await fetch(`http://${standby.httpAddress}/metrics`)).text()).toMatch(/^mesos_master_elected 0$/m);
  });

  it('redirects operator calls to the leader (HTTP 307) and refuses them over gRPC naming it', async () => {
    const res = await fetch(`http://${standby.httpAddress}/api/v1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"type":"GET_STATE"}', redirect: 'manual',
    });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe(`//${leader.httpAddress}/api/v1`);
    const redirect = await fetch(`http://${standby.httpAddress}/master/redirect`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe(`//${leader.httpAddress}`);
    const client = new grpcObject.mesos_ts.operator.Operator(standby.grpcAddress, grpc.credentials.createInsecure()) as unknown as OperatorClient;
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.GetState({}, (e) => resolve(e)));
    client.close();
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toContain(leader.grpcAddress);
  });

  it('weights and quota: set through a standby or ZooKeeper, shown as tables, refused with the master\'s reason', async () => {
    expect((await cli('weights', 'analytics=2.5', '--master', standby.httpAddress)).code).toBe(0);
    expect(rows((await cli('weights', '--master', zkUrl)).stdout)).toEqual([['ROLE', 'WEIGHT'], ['analytics', '2.5']]);
    expect((await cli('quota', 'analytics', '--guarantee', 'cpus:0.5;mem:64', '--limit', 'cpus:1', '--master', leader.httpAddress)).code).toBe(0);
    expect(rows((await cli('quota', '--master', leader.httpAddress)).stdout)).toEqual([['ROLE', 'GUARANTEE', 'LIMIT'], ['analytics', 'cpus:0.5;mem:64', 'cpus:1']]);
    const tooMuch = await cli('quota', 'analytics', '--guarantee', 'cpus:2', '--limit', 'cpus:1', '--master', leader.httpAddress);
    expect(tooMuch.code).toBe(2);
    expect(tooMuch.stderr).toMatch(/guarantee of cpus \(2\) is above its limit \(1\)/);
    expect((await cli('quota', 'analytics', '--remove', '--master', leader.httpAddress)).code).toBe(0);
    expect((await cli('quota', '--master', leader.httpAddress)).stdout.trim()).toBe('no quota set');
    expect((await cli('weights', 'analytics=-1', '--master', leader.httpAddress)).code).toBe(2);
  });

  it('maintenance: a machine scheduled, brought down and up; drain and teardown of unknown ids are refused', async () => {
    const m = ['--master', leader.httpAddress];
    expect((await cli('maintenance', 'schedule', 'node-x', '--start', '+1h', '--duration', '2h', ...m)).code).toBe(0);
    const [header, row] = rows((await cli('maintenance', ...m)).stdout);
    expect(header).toEqual(['MACHINE', 'MODE', 'START', 'DURATION', 'FRAMEWORKS (inverse offers)']);
    expect([row![0], row![1], row![3]]).toEqual(['node-x', 'DRAINING', '7200s']);
    expect((await cli('maintenance', 'down', 'node-x', ...m)).code).toBe(0);
    expect(rows((await cli('maintenance', ...m)).stdout)[1]![1]).toBe('DOWN');
    const clear = await cli('maintenance', 'clear', ...m);
    expect(clear.stdout).toMatch(/machines still DOWN stay: node-x/);
    expect((await cli('maintenance', 'up', 'node-x', ...m)).code).toBe(0);
    expect((await cli('maintenance', ...m)).stdout.trim()).toBe('no maintenance scheduled');
    const drain = await cli('drain', 'no-such-agent', '--max_grace_period=5s', ...m);
    expect(drain.code).toBe(2);
    expect(drain.stderr).toMatch(/No agent found with ID no-such-agent/);
    const teardown = await cli('teardown', 'no-such-framework', ...m);
    expect(teardown.stderr).toMatch(/No framework found with ID no-such-framework/);
  });
});
