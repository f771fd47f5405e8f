// Scheduler-facing fields as a Mesos 1.11 master sets them (issue 14):
// Mesos's field numbers for what we added to the protos, TaskInfo.discovery
// kept from ACCEPT to the agent and the task record (and across an agent's
// re-registration), TaskStatus as the master forwards and as it answers
// reconciliation, and Offer.domain, in both encodings of the HTTP API.
import { describe, expect, it } from 'vitest';
import { protoRoot, type TaskStatusIn } from '../../proto/index.js';
import { MasterHarness } from '../harness/master-harness.js';
import { Resources } from '../../common/resources.js';
import { decodeCall, encodeEvent } from '../../master/http-api/scheduler-codec.js';
import { reconciliationStatus } from '../../master/status.js';
import { readRegistration } from '../../master/validation.js';

const DISCOVERY = {
  visibility: 'EXTERNAL' as const, name: 'api', environment: 'prod', location: 'r1', version: '1.0',
  ports: { ports: [{ number: 31000, name: 'http', protocol: 'tcp' }, { number: 31001, name: 'metrics', protocol: 'udp', visibility: 'CLUSTER' as const }] },
  labels: { labels: [{ key: 'team', value: 'core' }] },
};

describe('field numbers are Mesos\'s (include/mesos/v1/mesos.proto)', () => {
  it.each([
    ['mesos.v1.TaskInfo', 'discovery', 11], ['mesos.v1.Task', 'discovery', 12], ['mesos.v1.Offer', 'domain', 11],
    ['mesos.v1.Offer', 'url', 8], ['mesos.v1.Offer', 'allocation_info', 10], ['mesos.v1.AgentInfo', 'domain', 10],
    ['mesos.v1.DiscoveryInfo', 'visibility', 1], ['mesos.v1.DiscoveryInfo', 'name', 2], ['mesos.v1.DiscoveryInfo', 'environment', 3],
    ['mesos.v1.DiscoveryInfo', 'location', 4], ['mesos.v1.DiscoveryInfo', 'version', 5], ['mesos.v1.DiscoveryInfo', 'ports', 6],
    ['mesos.v1.DiscoveryInfo', 'labels', 7], ['mesos.v1.Ports', 'ports', 1], ['mesos.v1.Port', 'number', 1], ['mesos.v1.Port', 'name', 2],
    ['mesos.v1.Port', 'protocol', 3], ['mesos.v1.Port', 'visibility', 4], ['mesos.v1.Port', 'labels', 5],
    ['mesos.v1.DomainInfo', 'fault_domain', 1], ['mesos.v1.DomainInfo.FaultDomain', 'region', 1], ['mesos.v1.DomainInfo.FaultDomain', 'zone', 2],
    ['mesos.v1.TaskStatus', 'source', 9], ['mesos.v1.TaskStatus', 'reason', 10], ['mesos.v1.TaskStatus', 'uuid', 11],
    ['mesos.v1.TaskStatus', 'agent_id', 5], ['mesos.v1.TaskStatus', 'executor_id', 7], ['mesos.v1.TaskStatus', 'timestamp', 6],
  ])('%s.%s = %i', (type, field, id) => {
    expect(protoRoot.lookupType(type).fields[field]?.id).toBe(id);
  });

  it('DiscoveryInfo.Visibility is FRAMEWORK 0, CLUSTER 1, EXTERNAL 2', () => {
    expect(protoRoot.lookupEnum('mesos.v1.DiscoveryInfo.Visibility').values).toEqual({ FRAMEWORK: 0, CLUSTER: 1, EXTERNAL: 2 });
  });
});

describe('TaskInfo.discovery', () => {
  it('is read from a JSON ACCEPT as Mesos writes it, and from protobuf', () => {
    const task = { name: 't', task_id: { value: 't' }, agent_id: { value: 'a' }, discovery: DISCOVERY };
    const call = { type: 'ACCEPT', accept: { offer_ids: [{ value: 'o' }], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] } };
    const fromJson = decodeCall(Buffer.from(JSON.stringify(call)), 'json');
    expect(fromJson.accept!.operations[0]!.launch!.task_infos[0]!.discovery).toMatchObject(DISCOVERY);
    const bytes = protoRoot.lookupType('mesos.v1.scheduler.Call').encode(protoRoot.lookupType('mesos.v1.scheduler.Call').fromObject(fromJson)).finish();
    expect(decodeCall(Buffer.from(bytes), 'protobuf').accept!.operations[0]!.launch!.task_infos[0]!.discovery).toMatchObject(DISCOVERY);
  });

  it('is kept by the master: in the task record and in the RunTask the agent receives', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:1;mem:256;ports:[31000-31001]');
    const fw = await h.subscribe('fw');
    const offer = fw.offers()[0]!;
    fw.call({
      type: 'ACCEPT',
      accept: {
        offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [{
          name: 'web', task_id: { value: 'web' }, agent_id: offer.agent_id, resources: Resources.parse('cpus:0.1;mem:32;ports:[31000-31001]').toProto(),
          command: { value: 'true', shell: true }, discovery: DISCOVERY,
        }] } }],
      },
    });
    await h.settle();
    expect(agent.launched()).toEqual(['web']);
    const runTask = agent.received.find((m) => m.run_task)!.run_task!;
    expect(runTask.task!.discovery).toMatchObject(DISCOVERY);
    expect(h.master.tasks.get(fw.id as never, 'web' as never)?.info.discovery).toMatchObject(DISCOVERY);
  });

  it('and labels, health check and kill policy come back from an agent re-registering with a new master', () => {
    const registration = readRegistration({
      agent_info: { hostname: 'a1', port: 5051, resources: Resources.parse('cpus:1;mem:64').toProto(), attributes: [] },
      tasks: [{
        task_id: { value: 'web' }, framework_id: { value: 'f' }, name: 'web', state: 'TASK_RUNNING', resources: [], statuses: [],
        discovery: DISCOVERY, labels: { labels: [{ key: 'k', value: 'v' }] }, kill_policy: { grace_period: { nanoseconds: 5e9 } },
      }],
      frameworks: [], version: 'test', ip: '127.0.0.1',
    } as never);
    expect(registration.tasks[0]!.info).toMatchObject({ discovery: DISCOVERY, labels: { labels: [{ key: 'k', value: 'v' }] }, kill_policy: { grace_period: { nanoseconds: 5e9 } } });
  });
});

describe('TaskStatus', () => {
  it('forwarded from the agent keeps source, agent_id, executor_id, timestamp and the uuid to acknowledge', async () => {
    const h = await MasterHarness.start();
    const agent = await h.addAgent('a1', 'cpus:1;mem:256');
    const fw = await h.subscribe('fw');
    fw.launch(fw.offers()[0]!, [{ id: 't1', resources: 'cpus:0.1;mem:32' }]);
    await h.settle();
    const uuid = agent.update(fw.id, 't1', 'TASK_RUNNING');
    await h.settle();
    const status = fw.updates().find((s) => s.state === 'TASK_RUNNING')!;
    expect(status).toMatchObject({ source: 'SOURCE_EXECUTOR', agent_id: { value: agent.id }, timestamp: h.time.now() });
    expect(Buffer.from(status.uuid as Uint8Array).equals(uuid)).toBe(true);
  });

  it('answering reconciliation is Mesos\'s: latest state, SOURCE_MASTER, REASON_RECONCILIATION, its message, no uuid, data or labels', () => {
    const latest: TaskStatusIn = {
      task_id: { value: 't1' }, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', agent_id: { value: 'S0' }, executor_id: { value: 't1' },
      uuid: Buffer.alloc(16, 1), data: Buffer.from('payload'), labels: { labels: [{ key: 'k', value: 'v' }] }, healthy: true, message: 'running',
      container_status: { executor_pid: 42 }, timestamp: 10,
    };
    expect(reconciliationStatus(latest, 20)).toEqual({
      task_id: { value: 't1' }, state: 'TASK_RUNNING', source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION',
      message: 'Reconciliation: Latest task state', timestamp: 20, agent_id: { value: 'S0' }, executor_id: { value: 't1' }, healthy: true,
      container_status: { executor_pid: 42 },
    });
  });

  it('master-made statuses (reconciling an unknown task) carry no uuid, and say SOURCE_MASTER', async () => {
    const h = await MasterHarness.start();
    const fw = await h.subscribe('fw', { partitionAware: true });
    fw.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'ghost' } }] } });
    await h.settle();
    const status = fw.updates().find((s) => s.task_id?.value === 'ghost')!;
    expect(status).toMatchObject({ state: 'TASK_UNKNOWN', source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION', timestamp: h.time.now() });
    expect(status.uuid === undefined || status.uuid === null || (status.uuid as Uint8Array).length === 0).toBe(true);
  });
});

describe('Offer.domain', () => {
  it('is written in JSON as Mesos writes it (and absent for an agent without one)', () => {
    const offer = (domain?: object) => ({
      id: { value: 'o' }, framework_id: { value: 'f' }, agent_id: { value: 'a' }, hostname: 'h', resources: [], ...(domain ? { domain } : {}),
    });
    const domain = { fault_domain: { region: { name: 'r1' }, zone: { name: 'z1' } } };
    const written = (o: object) => JSON.parse(encodeEvent({ type: 'OFFERS', offers: { offers: [o] } }, 'json').toString()).offers.offers[0];
    expect(written(offer(domain)).domain).toEqual(domain);
    expect('domain' in written(offer())).toBe(false);
  });
});
