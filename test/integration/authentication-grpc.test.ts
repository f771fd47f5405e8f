// Authentication on the master's gRPC surfaces (--authenticate_frameworks,
// --authenticate_agents, --authenticate_http_readwrite for the operator
// service), against a real master: every call without credentials, with
// wrong ones and with the right ones. A refused call is UNAUTHENTICATED and
// leaves the cluster as it was; no secret reaches a log line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { grpcObject, type OperatorClient, type SchedulerClient } from '../../proto/index.js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import type { Response__Output } from '../../proto/gen/mesos/v1/master/Response.js';
import { withCredential } from '../../common/grpc-credentials.js';
import type { Credential } from '../../common/credentials.js';
import { RawScheduler } from '../harness/grpc-scheduler.js';
import { LinkAgent } from '../harness/link-agent.js';
import { waitUntil } from '../harness/wait-until.js';

const SECRET = 'planted-Secret-7f3a9c';
const FRAMEWORK: Credential = { principal: 'alice', secret: `${SECRET}-alice` };
const AGENT: Credential = { principal: 'agent', secret: `${SECRET}-agent` };
const OPERATOR: Credential = { principal: 'ops', secret: `${SECRET}-ops` };
const OTHER: Credential = { principal: 'bob', secret: `${SECRET}-bob` };
const CREDENTIALS = JSON.stringify({ credentials: [FRAMEWORK, AGENT, OPERATOR, OTHER] });

/** The three cases every surface is tried with. */
const CASES: readonly { readonly name: string; readonly credential: Credential | undefined; readonly ok: boolean }[] = [
  { name: 'without credentials', credential: undefined, ok: false },
  { name: 'with a wrong secret', credential: { principal: 'alice', secret: 'guess' }, ok: false },
  { name: 'with an unknown principal', credential: { principal: 'mallory', secret: FRAMEWORK.secret }, ok: false },
];

let master: RunningMaster;
const logs: string[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  master = await startMaster({
    port: 0, grpc_port: 0, allocation_interval: 0.1, credentials: CREDENTIALS,
    authenticate_frameworks: true, authenticate_agents: true, authenticate_http_readwrite: true,
  }, (line) => logs.push(line));
});

afterAll(async () => {
  for (const close of closers) close();
  await master?.stop();
});

function schedulerClient(credential: Credential | undefined): SchedulerClient {
  const client = new grpcObject.mesos_ts.Scheduler(master.grpcAddress, grpc.credentials.createInsecure(), withCredential({}, credential)) as unknown as SchedulerClient;
  closers.push(() => client.close());
  return client;
}

/** SUBSCRIBE's outcome: the error's status code, or OK once SUBSCRIBED arrives. */
function subscribeOutcome(client: SchedulerClient, principal?: string): Promise<{ code: grpc.status; details: string; frameworkId?: string }> {
  const stream = client.Subscribe({ type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'authn', user: 'root', ...(principal ? { principal } : {}) } } });
  closers.push(() => stream.cancel());
  return new Promise((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
    stream.on('data', (e: { type: string; subscribed?: { framework_id?: { value: string } } }) => {
      if (e.type === 'SUBSCRIBED') resolve({ code: grpc.status.OK, details: '', frameworkId: e.subscribed!.framework_id!.value });
    });
  });
}

function unaryCode(call: (md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void) => void): Promise<grpc.status> {
  return new Promise((resolve) => call(new grpc.Metadata(), (err) => resolve(err ? err.code : grpc.status.OK)));
}

describe('scheduler gRPC with --authenticate_frameworks', () => {
  it.each(CASES)('SUBSCRIBE $name is UNAUTHENTICATED and adds no framework', async ({ credential }) => {
    const before = master.master.frameworks.size;
    const out = await subscribeOutcome(schedulerClient(credential));
    expect(out.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(out.details).not.toContain(SECRET);
    expect(master.master.frameworks.size).toBe(before);
  });

  it('SUBSCRIBE with the right credentials subscribes, FrameworkInfo.principal set to the authenticated one', async () => {
    const out = await subscribeOutcome(schedulerClient(FRAMEWORK));
    expect(out.code).toBe(grpc.status.OK);
    expect(master.master.frameworks.get(out.frameworkId!)?.info.principal).toBe('alice');
  });

  it('SUBSCRIBE with the right credentials but another FrameworkInfo.principal is refused and adds no framework', async () => {
    const before = master.master.frameworks.size;
    const out = await subscribeOutcome(schedulerClient(FRAMEWORK), 'bob');
    expect(out.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(out.details).toMatch(/Authenticated principal 'alice' does not match principal 'bob'/);
    expect(master.master.frameworks.size).toBe(before);
  });

  it('every unary call checks the credentials: TEARDOWN without or with wrong ones changes nothing, with the right ones removes the framework', async () => {
    const owner = new RawScheduler(master.grpcAddress, FRAMEWORK);
    closers.push(() => owner.close());
    await owner.subscribe({ name: 'teardown-me', user: 'root' });
    const teardown = (credential: Credential | undefined) => {
      const client = schedulerClient(credential);
      return unaryCode((md, cb) => {
        md.set('mesos-stream-id', owner.streamId);
        client.Teardown({ type: 'TEARDOWN', framework_id: { value: owner.frameworkId } }, md, cb);
      });
    };
    for (const { credential } of CASES) {
      expect(await teardown(credential)).toBe(grpc.status.UNAUTHENTICATED);
      expect(master.master.frameworks.get(owner.frameworkId)?.connected).toBe(true);
    }
    // Another principal's right credentials do not let it act for alice's framework.
    expect(await teardown(OTHER)).toBe(grpc.status.INVALID_ARGUMENT);
    expect(master.master.frameworks.get(owner.frameworkId)?.connected).toBe(true);
    expect(await teardown(FRAMEWORK)).toBe(grpc.status.OK);
    await waitUntil(() => master.master.frameworks.get(owner.frameworkId) === undefined, 5000, 'framework removed');
  });
});

describe('agent link with --authenticate_agents', () => {
  it.each(CASES)('an agent $name is refused and not registered', async ({ credential }) => {
    const before = master.master.agents.size;
    const refusals = logs.filter((l) => l.includes('authentication failed on AgentLink')).length;
    const agent = new LinkAgent({ master: master.grpcAddress, resources: 'cpus:1;mem:128', ...(credential ? { credential } : {}) });
    closers.push(() => agent.stop());
    void agent.start();
    await waitUntil(() => logs.filter((l) => l.includes('authentication failed on AgentLink')).length > refusals, 5000, 'the refusal');
    agent.stop();
    expect(agent.agentId).toBeNull();
    expect(master.master.agents.size).toBe(before);
  });

  it('an agent with its credential registers', async () => {
    const agent = new LinkAgent({ master: master.grpcAddress, resources: 'cpus:1;mem:128', credential: AGENT });
    closers.push(() => agent.stop());
    const id = await agent.start();
    expect(master.master.agents.get(id)?.connected).toBe(true);
  });
});

describe('operator gRPC with --authenticate_http_readwrite', () => {
  const operator = (credential: Credential | undefined): OperatorClient => {
    const client = new grpcObject.mesos_ts.operator.Operator(master.grpcAddress, grpc.credentials.createInsecure(), withCredential({}, credential)) as unknown as OperatorClient;
    closers.push(() => client.close());
    return client;
  };
  const updateWeights = (client: OperatorClient, weight: number) =>
    unaryCode((md, cb) => client.UpdateWeights({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'ops', weight }] } }, md, cb));
  const getHealth = (client: OperatorClient) => unaryCode((md, cb) => client.GetHealth({ type: 'GET_HEALTH' }, md, cb));

  it.each(CASES)('reads and writes $name are UNAUTHENTICATED; the weights stay as they were', async ({ credential }) => {
    const client = operator(credential);
    expect(await getHealth(client)).toBe(grpc.status.UNAUTHENTICATED);
    expect(await updateWeights(client, 5)).toBe(grpc.status.UNAUTHENTICATED);
    expect(master.master.state.weights.get('ops')).toBeUndefined();
  });

  it('SUBSCRIBE without credentials is UNAUTHENTICATED', async () => {
    const stream = operator(undefined).Subscribe({ type: 'SUBSCRIBE' });
    const err = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('with the right credentials, reads and writes go through', async () => {
    const client = operator(OPERATOR);
    expect(await getHealth(client)).toBe(grpc.status.OK);
    expect(await updateWeights(client, 5)).toBe(grpc.status.OK);
    expect(master.master.state.weights.get('ops')).toBe(5);
  });
});

describe('secrets', () => {
  it('GET_FLAGS shows --credentials (given inline) as [REDACTED]', async () => {
    const client = new grpcObject.mesos_ts.operator.Operator(master.grpcAddress, grpc.credentials.createInsecure(), withCredential({}, OPERATOR)) as unknown as OperatorClient;
    closers.push(() => client.close());
    const answer = await new Promise<Response__Output>((resolve, reject) => client.GetFlags({ type: 'GET_FLAGS' }, (err, res) => (err ? reject(err) : resolve(res!))));
    expect(JSON.stringify(answer)).not.toContain(SECRET);
    expect(answer.get_flags?.flags.find((f) => f.name === 'credentials')?.value).toBe('[REDACTED]');
  });

  it('never reach a log line, though refusals are logged with the principal given', () => {
    expect(logs.some((l) => l.includes("principal 'mallory'"))).toBe(true);
    for (const line of logs) expect(line).not.toContain(SECRET);
  });
});
