// Agents' JSON kept between state builds (master/state/kept-by-inputs.ts):
// after each change of a field an agent's JSON is made from, in v0
// (/master/state) and in v1 (GET_STATE), the kept answer is the one a build
// from nothing writes. A field missing from agentInputs (or offerInputs) fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { GetStateJson } from '../../master/operator/state-json.js';
import { OperatorViews } from '../../master/operator/views.js';
import { encodeMessage } from '../../master/http-api/proto-json.js';
import { StateSnapshot } from '../../master/v0/snapshot.js';
import { buildModel } from '../../master/v0/model.js';
import { buildInfo } from '../../master/v0/build-info.js';
import { AgentJsonCache } from '../../master/v0/writers.js';
import { protoRoot } from '../../proto/index.js';
import { Resources } from '../../common/resources.js';
import type { AgentConnection, EventSink } from '../../master/master.js';
import type { Call } from '../../proto/index.js';
import type { AgentId, FrameworkId, TaskId } from '../../common/ids.js';
import type { AgentRecord } from '../../master/state/records.js';

const RESPONSE = protoRoot.lookupType('mesos.v1.master.Response');
let running: RunningMaster;

beforeAll(async () => {
  running = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 3600, quiet: true }, () => {});
});
afterAll(async () => {
  await running?.stop();
});

const info = (i: number, hostname = `host-${i}`) =>
  ({ hostname, port: 5051, resources: Resources.parse('cpus:8;mem:4096;ports:[31000-31010]').toProto(), attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }] });

describe('agent JSON kept between builds', () => {
  it('is what a build from nothing writes after each change an agent\'s JSON depends on', async () => {
    const master = running.master;
    const conn: AgentConnection = { open: true, send: () => {}, close: () => {} };
    for (let i = 0; i < 3; i++) await master.registerAgent({ agent_info: info(i), tasks: [], frameworks: [], version: 'test' } as never, conn);
    const sink: EventSink = { send: () => {}, close: () => {}, queued: 0, queuedBytes: 0 };
    const call = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'fw', user: 'u', roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }], failover_timeout: 60 }, suppressed_roles: [] } };
    const fw = (await master.subscribe(call as unknown as Call, () => sink)).frameworkId as FrameworkId;
    const agents = [...master.agents.values()] as AgentRecord[];
    const context = { flags: {}, electedTime: () => master.startTime, build: buildInfo() };
    const snapshot = new StateSnapshot(master, context, { slowBuildMs: Infinity, staleFactor: 0 });
    const getState = new GetStateJson(master);
    const check = (what: string) => {
      master.version++;
      expect(snapshot.encoded('state', (m) => m.state).toString(), what).toBe(JSON.stringify(buildModel(master, context).state));
      const reference = encodeMessage(RESPONSE, { type: 'GET_STATE', get_state: new OperatorViews(master).getState(true) }, 'json').toString('utf8');
      expect(getState.encode().toString('utf8'), what).toBe(reference);
    };
    check('registered');
    const a = agents[0]!;
    const changes: [string, () => void][] = [
      ['disconnected', () => (a.connected = false)],
      ['reconnected', () => (a.connected = true)],
      ['deactivated', () => (a.deactivated = true)],
      ['draining itself', () => (a.draining = true)],
      ['drained by an operator', () => (a.drain = { state: 'DRAINING', maxGracePeriod: 5, markGone: false })],
      ['drain state changed in place', () => (a.drain!.state = 'DRAINED')],
      ['re-registered', () => (a.reregisteredTime = master.now() + 1)],
      ['new version', () => (a.version = '1.2.3')],
      ['new ip', () => (a.ip = '127.0.0.2')],
      ['new AgentInfo', () => (a.info = info(0, 'renamed') as never)],
      ['new total', () => (a.total = Resources.parse('cpus:4;mem:2048'))],
    ];
    for (const [what, change] of changes) {
      change();
      check(what);
    }
    // A task on it, then offers on every agent (an allocation pass), then none.
    const resources = Resources.parse('cpus:1;mem:64');
    master.tasks.add({
      frameworkId: fw, agentId: agents[1]!.id as AgentId, taskId: 't1' as TaskId, resources, state: 'TASK_RUNNING',
      info: { name: 't1', task_id: { value: 't1' }, resources: resources.toProto() }, status: null, statusUuid: null, recovered: false, createdAt: master.now(),
    } as never);
    check('a task added');
    master.runAllocation();
    expect(master.offers.view().size).toBeGreaterThan(0);
    check('offered');
    // Offers' texts (GET_STATE) are kept too, until their agent changes.
    const offeredAgent = agents[2]!;
    offeredAgent.unavailability = { start: master.now() + 100, duration: 3600 };
    check('maintenance scheduled while offered');
    offeredAgent.ip = '127.0.0.3';
    check('new ip while offered');
    offeredAgent.info = info(2, 'renamed-2') as never;
    check('new AgentInfo while offered');
    for (const offer of [...master.offers.view().values()]) master.rescindOffer(offer.id, 'test');
    check('offers rescinded');
    a.recovered = true;
    check('recovered (not back since a failover)');
  });

  it('keeps the same JSON while nothing it depends on changed', () => {
    const cache = new AgentJsonCache();
    const agent = [...running.master.agents.values()][1]!;
    const used = [Resources.parse('cpus:1')];
    const first = cache.get(agent, { used, offered: [] });
    expect(cache.get(agent, { used: [...used], offered: [] })).toBe(first); // A new list of the same resources.
    expect(cache.get(agent, { used: [], offered: used })).not.toBe(first);
  });
});
