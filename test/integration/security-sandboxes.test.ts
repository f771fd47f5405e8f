// ACLs with real tasks: run_tasks refuses a launch as a user the ACLs deny
// (TASK_ERROR naming the ACL, nothing consumed), and a sandbox is read only
// as access_sandboxes allows, on the agent's own /files/read and through the
// master's web UI proxy (which passes the caller's credentials on, so the
// agent decides). A master and an agent over loopback, tasks in Docker.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandEnv } from '../harness/processes.js';
import { basicAuthorization, type Credential } from '../../common/credentials.js';
import { startCluster, type TestCluster } from '../harness/cluster.js';
import { RawScheduler, commandTask, isUpdate } from '../harness/grpc-scheduler.js';
import { waitUntil } from '../harness/wait-until.js';
import type { OfferOut } from '../../proto/index.js';

const run = promisify(execFile);
const SECRET = 'planted-Secret-sandbox-90ac';
const cred = (principal: string): Credential => ({ principal, secret: `${SECRET}-${principal}` });
const ALICE = cred('alice');
const OPS = cred('ops');
const VIEWER = cred('viewer');
const AGENT = cred('agent');
const CREDENTIALS = JSON.stringify({ credentials: [ALICE, OPS, VIEWER, AGENT] });

// No principal may launch as root (the NONE rule matches every principal and denies).
const MASTER_ACLS = { run_tasks: [{ principals: { type: 'NONE' }, users: { values: ['root'] } }] };
const AGENT_ACLS = {
  access_sandboxes: [{ principals: { values: ['ops'] }, users: { type: 'ANY' } }, { principals: { type: 'NONE' }, users: { type: 'ANY' } }],
  view_tasks: [{ principals: { values: ['viewer'] }, users: { type: 'NONE' } }],
};

type Case = 'none' | 'wrong' | 'denied' | 'right';
const CASES: readonly { c: Case; credential: Credential | undefined; status: number }[] = [
  { c: 'none', credential: undefined, status: 401 },
  { c: 'wrong', credential: { principal: 'ops', secret: 'guess' }, status: 401 },
  { c: 'denied', credential: VIEWER, status: 403 },
  { c: 'right', credential: OPS, status: 200 },
];

let cluster: TestCluster;
let s: RawScheduler;
let stdoutPath = '';

beforeAll(async () => {
  cluster = await startCluster({
    agents: [],
    master: {
      credentials: CREDENTIALS, acls: JSON.stringify(MASTER_ACLS), authenticate_frameworks: true, authenticate_agents: true,
      authenticate_http_readonly: true, authenticate_http_readwrite: true,
    },
    agent: {
      credential: JSON.stringify(AGENT), http_credentials: CREDENTIALS, acls: JSON.stringify(AGENT_ACLS),
      authenticate_http_readonly: true, authenticate_http_readwrite: true,
    },
  });
  await cluster.addAgent('cpus:2;mem:1024;disk:1024');
  s = new RawScheduler(cluster.master.grpcAddress, ALICE);
  s.autoAcknowledge = true;
  await s.subscribe({ name: 'sandboxes', user: 'root' });
}, 60_000);

afterAll(async () => {
  s?.close();
  await cluster?.stop();
});

const get = (address: string, path: string, credential: Credential | undefined) =>
  fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(10_000), headers: credential ? { Authorization: basicAuthorization(credential) } : {} });

/** What the master holds that a refusal must leave alone: tasks and their states, and what the agent's tasks use. */
const clusterState = () => ({
  tasks: [...cluster.master.master.tasks.all()].map((t) => [t.taskId, t.state]),
  frameworks: [...cluster.master.master.frameworks.keys()],
  used: [...cluster.master.master.tasks.all()].map((t) => t.resources.toString()),
});

async function nextOffer(after: number): Promise<OfferOut> {
  const e = await s.next((ev) => ev.type === 'OFFERS' && s.events.indexOf(ev) >= after, 15_000);
  return e.offers!.offers[0] as OfferOut;
}

describe('run_tasks', () => {
  it("a task launched as root gets TASK_ERROR naming the ACL, and nothing is consumed; one as 'nobody' runs", async () => {
    const before = clusterState();
    const offer = await nextOffer(0);
    await s.launch(offer, [commandTask('as-root', offer, 'echo never')]);
    const error = await s.next(isUpdate('as-root', 'TASK_ERROR'));
    expect(error.update!.status!.message).toBe("Not authorized to launch as user 'root' (ACL run_tasks[0])");
    expect(error.update!.status!.reason).toBe('REASON_TASK_UNAUTHORIZED');
    expect(clusterState()).toEqual(before);
    expect(cluster.master.master.tasks.get(s.frameworkId, 'as-root')).toBeUndefined();

    const seen = s.events.length;
    const again = await nextOffer(seen);
    const task = commandTask('as-nobody', again, 'echo sandbox-line; sleep 3600');
    await s.launch(again, [{ ...task, command: { ...task.command!, user: 'nobody' } }]);
    await s.next(isUpdate('as-nobody', 'TASK_RUNNING'), 30_000);
    stdoutPath = `/frameworks/${s.frameworkId}/executors/as-nobody/runs/latest/stdout`;
    await waitUntil(async () => (await (await get(cluster.agents[0]!.httpAddress, `/files/read?path=${encodeURIComponent(stdoutPath)}&offset=0`, OPS)).text()).includes('sandbox-line'), 10_000, 'the task wrote its line');
  }, 60_000);
});

describe('access_sandboxes (ops only) with the agent authenticating its read-only endpoints', () => {
  const surfaces = [
    { name: "the agent's /files/read", address: () => cluster.agents[0]!.httpAddress, path: () => `/files/read?path=${encodeURIComponent(stdoutPath)}&offset=0` },
    {
      name: "the master's web UI proxy", address: () => cluster.master.httpAddress,
      path: () => `/ui/agent/${cluster.agents[0]!.agentId()!}/files/read?path=${encodeURIComponent(stdoutPath)}&offset=0`,
    },
  ];
  it.each(surfaces)('$name: 401 without or with wrong credentials, 403 for viewer, the data for ops', async ({ address, path }) => {
    expect(stdoutPath).not.toBe('');
    for (const { c, credential, status } of CASES) {
      const before = clusterState();
      const res = await get(address(), path(), credential);
      const text = await res.text();
      expect(res.status, c).toBe(status);
      expect(text).not.toContain(SECRET);
      if (c === 'none' || c === 'wrong') expect(res.headers.get('www-authenticate')).toBe('Basic realm="mesos"');
      if (c === 'denied') expect(text).toMatch(/Not authorized to access the sandbox of task as-nobody \(user 'nobody'\) as principal 'viewer' \(ACL access_sandboxes\[1\]\)/);
      if (c === 'right') expect(JSON.parse(text).data).toContain('sandbox-line');
      else expect(clusterState()).toEqual(before);
    }
  });

  it("READ_FILE on the agent's v1 API (--authenticate_http_readwrite): 401, 401, 403 for viewer, the data for ops", async () => {
    for (const { c, credential, status } of CASES) {
      const res = await fetch(`http://${cluster.agents[0]!.httpAddress}/api/v1`, {
        method: 'POST', signal: AbortSignal.timeout(10_000),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(credential ? { Authorization: basicAuthorization(credential) } : {}) },
        body: JSON.stringify({ type: 'READ_FILE', read_file: { path: stdoutPath, offset: 0 } }),
      });
      const text = await res.text();
      expect(res.status, c).toBe(status);
      if (c === 'denied') expect(text).toMatch(/ACL access_sandboxes\[1\]/);
      if (c === 'right') expect(Buffer.from((JSON.parse(text) as { read_file: { data: string } }).read_file.data, 'base64').toString()).toContain('sandbox-line');
    }
  });

  it("the agent's /health stays open; its /state demands credentials and shows viewer no task (view_tasks), ops the task", async () => {
    const agent = cluster.agents[0]!.httpAddress;
    expect((await get(agent, '/health', undefined)).status).toBe(200);
    expect((await get(agent, '/state', undefined)).status).toBe(401);
    const executors = async (credential: Credential) => {
      const res = await get(agent, '/state', credential);
      expect(res.status).toBe(200);
      const state = (await res.json()) as { frameworks: { executors: { id: string }[] }[] };
      return state.frameworks.flatMap((f) => f.executors.map((e) => e.id));
    };
    expect(await executors(OPS)).toContain('as-nobody');
    expect(await executors(VIEWER)).toEqual([]);
    const v1Tasks = async (credential: Credential) => {
      const res = await fetch(`http://${agent}/api/v1`, {
        method: 'POST', signal: AbortSignal.timeout(10_000),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: basicAuthorization(credential) },
        body: JSON.stringify({ type: 'GET_TASKS' }),
      });
      const body = (await res.json()) as { get_tasks: { launched_tasks?: { task_id: { value: string } }[] } };
      return (body.get_tasks.launched_tasks ?? []).map((t) => t.task_id.value);
    };
    expect(await v1Tasks(OPS)).toContain('as-nobody');
    expect(await v1Tasks(VIEWER)).toEqual([]);
  });

  it('`mesos-ts logs` presents its credential to master and agent: ops reads the output; viewer is refused by access_sandboxes, no credential by authentication', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ['bin/mesos-ts.js', 'logs', 'as-nobody', `--master=${cluster.master.httpAddress}`, ...args], { timeout: 30_000, env: commandEnv() });
    expect((await cli('--principal=ops', `--secret=${OPS.secret}`)).stdout).toContain('sandbox-line');
    const denied = await cli('--principal=viewer', `--secret=${VIEWER.secret}`).catch((err: { code: number; stderr: string }) => err);
    expect(denied).toMatchObject({ code: 1 });
    expect((denied as { stderr: string }).stderr).toMatch(/answered 403: Not authorized to access the sandbox .*ACL access_sandboxes/);
    const none = await cli().catch((err: { code: number; stderr: string }) => err);
    expect((none as { stderr: string }).stderr).toMatch(/answered 401/);
  });

  it('no secret reaches a log line', () => {
    for (const line of cluster.logs) expect(line).not.toContain(SECRET);
  });
});
