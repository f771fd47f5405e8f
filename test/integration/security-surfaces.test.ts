// Authentication and authorization (--acls) on each of the master's
// surfaces, against a real master over loopback gRPC and HTTP: the gRPC
// scheduler API, the agent link, the operator gRPC service, the v1 scheduler
// HTTP API and the operator HTTP API (v1 and v0 writes). Every surface is
// one table: each call without credentials, with wrong ones, as a principal
// the ACLs deny and as the right one; each wrong case checks that the
// cluster's state is what it was. Then view_frameworks filtering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type OperatorClient, type SchedulerClient } from '../../proto/index.js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { startAgent } from '../../agent/main.js';
import { withCredential } from '../../common/grpc-credentials.js';
import { basicAuthorization, type Credential } from '../../common/credentials.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { LinkAgent } from '../harness/link-agent.js';
import { waitUntil } from '../harness/wait-until.js';

const SECRET = 'planted-Secret-acl-4e1b';
const cred = (principal: string): Credential => ({ principal, secret: `${SECRET}-${principal}` });
const ALICE = cred('alice');
const BOB = cred('bob');
const OPS = cred('ops');
const VIEWER = cred('viewer');
const AGENT = cred('agent');
const ROGUE_AGENT = cred('rogue-agent');
const CREDENTIALS = JSON.stringify({ credentials: [ALICE, BOB, OPS, VIEWER, AGENT, ROGUE_AGENT] });

const only = (principal: string, key: string, object: Record<string, unknown> = { type: 'ANY' }) => [
  { principals: { values: [principal] }, [key]: object },
  { principals: { type: 'NONE' }, [key]: object },
];
const ACLS = {
  register_frameworks: only('alice', 'roles', { values: ['prod'] }),
  teardown_frameworks: only('ops', 'framework_principals'),
  update_weights: only('ops', 'roles'),
  register_agents: only('agent', 'agents'),
  reserve_resources: only('ops', 'roles'),
  drain_agents: only('ops', 'agents'),
  get_endpoints: only('ops', 'paths', { values: ['/metrics/snapshot'] }),
  view_flags: only('ops', 'flags'),
  view_frameworks: [
    { principals: { values: ['ops'] }, users: { type: 'ANY' } },
    { principals: { values: ['viewer'] }, users: { values: ['nobody'] } },
    { principals: { type: 'NONE' }, users: { type: 'ANY' } },
  ],
};

/** The four cases of every table; `denied` and `right` are filled in per surface. */
type Case = 'none' | 'wrong' | 'denied' | 'right';
const WRONG: Credential = { principal: 'alice', secret: 'guess' };
const credentialOf = (c: Case, denied: Credential, right: Credential): Credential | undefined =>
  c === 'none' ? undefined : c === 'wrong' ? WRONG : c === 'denied' ? denied : right;
const CASES: readonly Case[] = ['none', 'wrong', 'denied', 'right'];

let master: RunningMaster;
const logs: string[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  master = await startMaster({
    port: 0, grpc_port: 0, allocation_interval: 0.1, credentials: CREDENTIALS, acls: JSON.stringify(ACLS),
    authenticate_frameworks: true, authenticate_agents: true, authenticate_http_frameworks: true,
    authenticate_http_readwrite: true, authenticate_http_readonly: true,
  }, (line) => logs.push(line));
});

afterAll(async () => {
  for (const close of closers.reverse()) close();
  await master?.stop();
});

function http(path: string, init: { method?: string; body?: string; type?: string; headers?: Record<string, string> }, credential: Credential | undefined) {
  const abort = new AbortController();
  closers.push(() => abort.abort());
  return fetch(`http://${master.httpAddress}${path}`, {
    method: init.method ?? 'GET', signal: abort.signal,
    headers: {
      ...(init.body !== undefined ? { 'Content-Type': init.type ?? 'application/json' } : {}),
      ...(credential ? { Authorization: basicAuthorization(credential) } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
}

/**
 * The cluster as GET_STATE and GET_WEIGHTS show it to ops, without what ticks
 * by itself (offers, times, counters). GET_STATE, not /master/state: the
 * latter may be a little behind on a loaded machine (its snapshot is rebuilt
 * at a bounded rate), GET_STATE is built for every change.
 */
async function clusterState(): Promise<unknown> {
  const call = async (type: string) => {
    const res = await http('/api/v1', { method: 'POST', body: JSON.stringify({ type }), headers: { Accept: 'application/json' } }, OPS);
    return (await res.json()) as Record<string, Record<string, unknown>>;
  };
  type Framework = { framework_info: { id: { value: string }; roles?: string[] }; active?: boolean };
  type Task = { task_id: { value: string }; state: string };
  type Agent = { agent_info: { id: { value: string } }; active?: boolean; deactivated?: boolean; total_resources?: unknown };
  const state = (await call('GET_STATE')).get_state as {
    get_frameworks: { frameworks?: Framework[]; completed_frameworks?: Framework[] };
    get_tasks: { tasks?: Task[]; completed_tasks?: Task[] };
    get_agents: { agents?: Agent[] };
  };
  return {
    frameworks: (state.get_frameworks.frameworks ?? []).map((f) => [f.framework_info.id.value, f.active ?? false, f.framework_info.roles ?? []]),
    completed: (state.get_frameworks.completed_frameworks ?? []).map((f) => f.framework_info.id.value),
    tasks: [...(state.get_tasks.tasks ?? []), ...(state.get_tasks.completed_tasks ?? [])].map((t) => [t.task_id.value, t.state]),
    agents: (state.get_agents.agents ?? []).map((a) => [a.agent_info.id.value, a.active ?? false, a.deactivated ?? false, a.total_resources]),
    weights: (await call('GET_WEIGHTS')).get_weights,
  };
}

/** Runs `call` for each case; for the wrong ones the cluster must be as it was. */
async function table(run: (c: Case) => Promise<void>): Promise<void> {
  for (const c of CASES) {
    const before = c === 'right' ? null : await clusterState();
    await run(c);
    if (before !== null) expect(await clusterState(), `the state after the '${c}' case`).toEqual(before);
  }
}

const EXPECT_GRPC: Record<Case, grpc.status> = { none: grpc.status.UNAUTHENTICATED, wrong: grpc.status.UNAUTHENTICATED, denied: grpc.status.PERMISSION_DENIED, right: grpc.status.OK };
const EXPECT_HTTP: Record<Case, number> = { none: 401, wrong: 401, denied: 403, right: 200 };

function subscribeOutcome(credential: Credential | undefined, roles: string[]): Promise<{ code: grpc.status; details: string }> {
  const client = new grpcObject.mesos_ts.Scheduler(master.grpcAddress, grpc.credentials.createInsecure(), withCredential({}, credential)) as unknown as SchedulerClient;
  closers.push(() => client.close());
  const stream = client.Subscribe({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'acl', user: 'root', roles, capabilities: [{ type: 'MULTI_ROLE' }] } } });
  closers.push(() => stream.cancel());
  return new Promise((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
    stream.on('data', (e: { type: string }) => e.type === 'SUBSCRIBED' && resolve({ code: grpc.status.OK, details: '' }));
  });
}

function operatorClient(credential: Credential | undefined): OperatorClient {
  const client = new grpcObject.mesos_ts.operator.Operator(master.grpcAddress, grpc.credentials.createInsecure(), withCredential({}, credential)) as unknown as OperatorClient;
  closers.push(() => client.close());
  return client;
}

const unary = (call: (cb: (err: grpc.ServiceError | null) => void) => void) =>
  new Promise<{ code: grpc.status; details: string }>((resolve) => call((err) => resolve({ code: err ? err.code : grpc.status.OK, details: err?.details ?? '' })));

describe('gRPC scheduler API: SUBSCRIBE with role prod (register_frameworks: alice only)', () => {
  it('refuses without or with wrong credentials (UNAUTHENTICATED) and bob (PERMISSION_DENIED naming the ACL); subscribes alice', async () => {
    await table(async (c) => {
      const out = await subscribeOutcome(credentialOf(c, BOB, ALICE), ['prod']);
      expect(out.code, c).toBe(EXPECT_GRPC[c]);
      if (c === 'denied') expect(out.details).toMatch(/Not authorized to register a framework with role 'prod' as principal 'bob' \(ACL register_frameworks\[1\]\)/);
    });
  });
});

describe('UPDATE_FRAMEWORK asks register_frameworks for the new roles', () => {
  it("bob may not move his framework to role prod (PERMISSION_DENIED, roles unchanged); alice may", async () => {
    for (const [who, credential, code] of [['bob', BOB, grpc.status.PERMISSION_DENIED], ['alice', ALICE, grpc.status.OK]] as const) {
      const s = new RawScheduler(master.grpcAddress, credential);
      closers.push(() => s.close());
      await s.subscribe({ name: `mover-${who}`, user: 'root', roles: ['dev'], capabilities: [{ type: 'MULTI_ROLE' }] });
      const before = await clusterState();
      const out = await s.call('UpdateFramework', {
        type: 'UPDATE_FRAMEWORK',
        update_framework: { framework_info: { id: { value: s.frameworkId }, name: `mover-${who}`, user: 'root', principal: who, roles: ['prod'], capabilities: [{ type: 'MULTI_ROLE' }] } },
      }).then(() => grpc.status.OK, (err: grpc.ServiceError) => err.code);
      expect(out, who).toBe(code);
      if (code !== grpc.status.OK) expect(await clusterState()).toEqual(before);
      expect(master.master.frameworks.get(s.frameworkId)?.roles).toEqual(code === grpc.status.OK ? ['prod'] : ['dev']);
    }
  });
});

describe('agent link (register_agents: agent only)', () => {
  it('refuses an agent without or with wrong credentials and one the ACLs deny (it keeps retrying); registers the right one', async () => {
    await table(async (c) => {
      const credential = credentialOf(c, ROGUE_AGENT, AGENT);
      const marker = c === 'denied' ? 'Not authorized to register an agent' : 'authentication failed on AgentLink';
      const seen = logs.filter((l) => l.includes(marker)).length;
      const agent = new LinkAgent({ master: master.grpcAddress, resources: 'cpus:1;mem:128', retrySeconds: 0.2, ...(credential ? { credential } : {}) });
      closers.push(() => agent.stop());
      if (c === 'right') {
        const id = await agent.start();
        expect(master.master.agents.get(id)?.connected).toBe(true);
        return;
      }
      void agent.start().catch(() => {});
      // Refused more than once: the agent retries, as after a failed authentication.
      await waitUntil(() => logs.filter((l) => l.includes(marker)).length > seen + 1, 10_000, `the '${c}' agent refused twice`);
      agent.stop();
      expect(agent.agentId).toBeNull();
    });
  });
});

describe('operator gRPC: UPDATE_WEIGHTS and TEARDOWN (ops only)', () => {
  it('UPDATE_WEIGHTS: UNAUTHENTICATED, PERMISSION_DENIED for viewer, OK for ops', async () => {
    await table(async (c) => {
      const client = operatorClient(credentialOf(c, VIEWER, OPS));
      const out = await unary((cb) => client.UpdateWeights({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'grpc', weight: 3 }] } }, cb));
      expect(out.code, c).toBe(EXPECT_GRPC[c]);
      if (c === 'denied') expect(out.details).toMatch(/Not authorized to update the weight of role 'grpc' as principal 'viewer' \(ACL update_weights\[1\]\)/);
    });
    expect(master.master.state.weights.get('grpc')).toBe(3);
  });

  it("TEARDOWN of alice's framework: refused but for ops", async () => {
    const owner = new RawScheduler(master.grpcAddress, ALICE);
    closers.push(() => owner.close());
    await owner.subscribe({ name: 'teardown-me', user: 'root' });
    await table(async (c) => {
      const client = operatorClient(credentialOf(c, VIEWER, OPS));
      const out = await unary((cb) => client.Teardown({ type: 'TEARDOWN', teardown: { framework_id: { value: owner.frameworkId } } }, cb));
      expect(out.code, c).toBe(EXPECT_GRPC[c]);
    });
    await waitUntil(() => master.master.frameworks.get(owner.frameworkId) === undefined, 5000, 'framework removed');
  });
});

describe('v1 scheduler HTTP API: SUBSCRIBE with role prod', () => {
  it('401 without or with wrong credentials, 403 for bob, 200 and a stream for alice', async () => {
    await table(async (c) => {
      const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'http-acl', user: 'root', roles: ['prod'], capabilities: [{ type: 'MULTI_ROLE' }] } } });
      const res = await http('/api/v1/scheduler', { method: 'POST', body, headers: { Accept: 'application/json' } }, credentialOf(c, BOB, ALICE));
      expect(res.status, c).toBe(EXPECT_HTTP[c]);
      if (c === 'denied') expect(await res.text()).toMatch(/ACL register_frameworks/);
      if (c === 'none' || c === 'wrong') expect(res.headers.get('www-authenticate')).toBe('Basic realm="mesos"');
      if (c === 'right') await waitUntil(() => [...master.master.frameworks.values()].some((f) => f.info.name === 'http-acl' && f.connected), 5000, 'subscribed');
    });
  });
});

describe('operator HTTP API: v1 and v0 writes (update_weights: ops only)', () => {
  const writes: readonly { name: string; send: (credential: Credential | undefined) => Promise<Response>; role: string }[] = [
    {
      name: 'POST /api/v1 UPDATE_WEIGHTS', role: 'v1',
      send: (credential) => http('/api/v1', { method: 'POST', body: JSON.stringify({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'v1', weight: 2 }] } }) }, credential),
    },
    {
      name: 'PUT /master/weights', role: 'v0',
      send: (credential) => http('/master/weights', { method: 'PUT', body: JSON.stringify([{ role: 'v0', weight: 2 }]) }, credential),
    },
  ];
  it.each(writes)('$name: 401, 401, 403 for viewer, 200 for ops', async ({ send, role }) => {
    await table(async (c) => {
      const res = await send(credentialOf(c, VIEWER, OPS));
      expect(res.status, c).toBe(EXPECT_HTTP[c]);
      const text = await res.text();
      expect(text).not.toContain(SECRET);
      if (c === 'denied') expect(text).toMatch(/ACL update_weights\[1\]/);
    });
    expect(master.master.state.weights.get(role)).toBe(2);
  });

  const reads: readonly { name: string; send: (credential: Credential | undefined) => Promise<Response>; acl: RegExp }[] = [
    { name: 'GET /metrics/snapshot (get_endpoints)', send: (credential) => http('/metrics/snapshot', {}, credential), acl: /GET '\/metrics\/snapshot' as principal 'viewer' \(ACL get_endpoints\[1\]\)/ },
    { name: 'GET /master/flags (view_flags)', send: (credential) => http('/master/flags', {}, credential), acl: /view the flags as principal 'viewer' \(ACL view_flags\[1\]\)/ },
    {
      name: 'POST /api/v1 GET_FLAGS (view_flags)', acl: /ACL view_flags\[1\]/,
      send: (credential) => http('/api/v1', { method: 'POST', body: JSON.stringify({ type: 'GET_FLAGS' }), headers: { Accept: 'application/json' } }, credential),
    },
  ];
  it.each(reads)('$name: 401, 401, 403 for viewer, 200 for ops', async ({ send, acl }) => {
    await table(async (c) => {
      const res = await send(credentialOf(c, VIEWER, OPS));
      expect(res.status, c).toBe(EXPECT_HTTP[c]);
      const text = await res.text();
      if (c === 'denied') expect(text).toMatch(acl);
      expect(text).not.toContain(SECRET);
    });
  });

  it("POST /master/teardown of alice's framework: 401, 401, 403 for viewer, 200 for ops", async () => {
    const owner = new RawScheduler(master.grpcAddress, ALICE);
    closers.push(() => owner.close());
    await owner.subscribe({ name: 'v0-teardown', user: 'root' });
    await table(async (c) => {
      const res = await http('/master/teardown', { method: 'POST', body: `frameworkId=${owner.frameworkId}`, type: 'application/x-www-form-urlencoded' }, credentialOf(c, VIEWER, OPS));
      expect(res.status, c).toBe(EXPECT_HTTP[c]);
      if (c === 'denied') expect(await res.text()).toMatch(/ACL teardown_frameworks\[1\]/);
    });
    await waitUntil(() => master.master.frameworks.get(owner.frameworkId) === undefined, 5000, 'framework removed');
  });
});

describe('reserve_resources and drain_agents (ops only)', () => {
  const agentId = () => [...master.master.agents.values()].find((a) => a.connected)!.id;

  it('POST /master/reserve: 401, 401, 403 for viewer, 202 for ops', async () => {
    const resources = JSON.stringify([{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 }, reservations: [{ type: 'DYNAMIC', role: 'ops' }] }]);
    await table(async (c) => {
      const body = `slaveId=${agentId()}&resources=${encodeURIComponent(resources)}`;
      const res = await http('/master/reserve', { method: 'POST', body, type: 'application/x-www-form-urlencoded' }, credentialOf(c, VIEWER, OPS));
      expect(res.status, c).toBe(c === 'right' ? 202 : EXPECT_HTTP[c]);
      if (c === 'denied') expect(await res.text()).toMatch(/Not authorized to reserve resources for role 'ops' as principal 'viewer' \(ACL reserve_resources\[1\]\)/);
    });
    expect(master.master.agents.get(agentId())!.dynamicReservations?.toString()).toBe('cpus(ops):0.5');
  });

  it('DRAIN_AGENT over operator gRPC: UNAUTHENTICATED, PERMISSION_DENIED for viewer, OK for ops', async () => {
    const id = agentId();
    await table(async (c) => {
      const client = operatorClient(credentialOf(c, VIEWER, OPS));
      const out = await unary((cb) => client.DrainAgent({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: id } } }, cb));
      expect(out.code, c).toBe(EXPECT_GRPC[c]);
      if (c === 'denied') expect(out.details).toMatch(/ACL drain_agents\[1\]/);
    });
    expect(master.master.agents.get(id)?.drain?.state).toMatch(/DRAIN(ING|ED)/);
  });
});

describe('view_frameworks: /master/state, GET_FRAMEWORKS and the event stream are filtered', () => {
  it("viewer (who may see only user 'nobody') sees nobody's framework and not root's; ops sees both", async () => {
    const rootFw = new RawScheduler(master.grpcAddress, ALICE);
    const nobodyFw = new RawScheduler(master.grpcAddress, ALICE);
    closers.push(() => rootFw.close(), () => nobodyFw.close());
    await rootFw.subscribe({ name: 'of-root', user: 'root' });
    await nobodyFw.subscribe({ name: 'of-nobody', user: 'nobody' });
    const ids = async (credential: Credential) => {
      const state = (await (await http('/master/state', {}, credential)).json()) as { frameworks: { id: string }[] };
      return state.frameworks.map((f) => f.id);
    };
    // /master/state's snapshot may be a little behind on a loaded machine: wait until ops sees both.
    await waitUntil(async () => (await ids(OPS)).filter((id) => id === rootFw.frameworkId || id === nobodyFw.frameworkId).length === 2, 5000, 'both frameworks in /master/state');
    expect(await ids(VIEWER)).toContain(nobodyFw.frameworkId);
    expect(await ids(VIEWER)).not.toContain(rootFw.frameworkId);

    const v1 = async (credential: Credential) => {
      const res = await http('/api/v1', { method: 'POST', body: JSON.stringify({ type: 'GET_FRAMEWORKS' }), headers: { Accept: 'application/json' } }, credential);
      const body = (await res.json()) as { get_frameworks: { frameworks?: { framework_info: { id: { value: string } } }[] } };
      return (body.get_frameworks.frameworks ?? []).map((f) => f.framework_info.id.value);
    };
    expect(await v1(VIEWER)).not.toContain(rootFw.frameworkId);
    expect(await v1(VIEWER)).toContain(nobodyFw.frameworkId);
    expect(await v1(OPS)).toContain(rootFw.frameworkId);

    // The operator event stream: SUBSCRIBED's state is filtered, so are FRAMEWORK_ADDED events.
    const stream = operatorClient(VIEWER).Subscribe({ type: 'SUBSCRIBE' });
    closers.push(() => stream.cancel());
    const events: { type: string; subscribed?: { get_state?: { get_frameworks?: { frameworks: { framework_info: { id: { value: string } } }[] } } }; framework_added?: { framework: { framework_info: { name: string } } } }[] = [];
    stream.on('data', (e: (typeof events)[number]) => events.push(e));
    stream.on('error', () => {});
    await waitUntil(() => events.some((e) => e.type === 'SUBSCRIBED'), 5000, 'SUBSCRIBED');
    const seen = events.find((e) => e.type === 'SUBSCRIBED')!.subscribed!.get_state!.get_frameworks!.frameworks.map((f) => f.framework_info.id.value);
    expect(seen).toContain(nobodyFw.frameworkId);
    expect(seen).not.toContain(rootFw.frameworkId);
    const later = [new RawScheduler(master.grpcAddress, ALICE), new RawScheduler(master.grpcAddress, ALICE)];
    closers.push(() => later.forEach((s) => s.close()));
    await later[0]!.subscribe({ name: 'later-root', user: 'root' });
    await later[1]!.subscribe({ name: 'later-nobody', user: 'nobody' });
    await waitUntil(() => events.some((e) => e.framework_added?.framework.framework_info.name === 'later-nobody'), 5000, 'FRAMEWORK_ADDED of later-nobody');
    expect(events.some((e) => e.framework_added?.framework.framework_info.name === 'later-root')).toBe(false);
  });
});

describe('start-up', () => {
  it('a master refuses bad --acls, naming the key at fault', async () => {
    await expect(startMaster({ port: 0, grpc_port: 0, acls: '{"run_tasks": [{"principals": {"type": "ANY"}}]}' })).rejects.toThrow(/--acls: run_tasks\[0\]\.users is required/);
    await expect(startMaster({ port: 0, grpc_port: 0, acls: '{"launch_nested_containers_as_user": []}' })).rejects.toThrow(/unknown or unsupported action "launch_nested_containers_as_user"/);
  });

  it('an agent refuses --authenticate_http_readonly without --http_credentials', async () => {
    await expect(startAgent({ master: '127.0.0.1:1', resources: 'cpus:1;mem:64;disk:64;ports:[31000-31001]', authenticate_http_readonly: true }))
      .rejects.toThrow(/--http_credentials is required with --authenticate_http_readonly/);
  });
});

describe('secrets', () => {
  it('never reach a log line', () => {
    for (const line of logs) expect(line).not.toContain(SECRET);
  });
});
