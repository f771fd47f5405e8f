// GET_STATE's incremental JSON (master/operator/state-json.ts) against the
// whole-answer encoding it replaces: the same text, byte for byte, for
// running, unreachable and completed tasks with every optional field, and
// again after tasks change (a kept task text that were not renewed would differ).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { GetStateJson } from '../../master/operator/state-json.js';
import { OperatorViews } from '../../master/operator/views.js';
import { encodeMessage } from '../../master/http-api/proto-json.js';
import { protoRoot } from '../../proto/index.js';
import { Resources } from '../../common/resources.js';
import type { AgentConnection, EventSink } from '../../master/master.js';
import type { Call } from '../../proto/index.js';
import type { AgentId, FrameworkId, TaskId } from '../../common/ids.js';
import type { TaskRecord } from '../../master/state/records.js';

const RESPONSE = protoRoot.lookupType('mesos.v1.master.Response');
let running: RunningMaster;

beforeAll(async () => {
  running = await startMaster({ port: 0, grpc_port: 0, allocation_interval: 3600, quiet: true }, () => {});
});
afterAll(async () => {
  await running?.stop();
});

/** What GET_STATE answered before: the views encoded whole. */
const reference = () => encodeMessage(RESPONSE, { type: 'GET_STATE', get_state: new OperatorViews(running.master).getState(true) }, 'json').toString('utf8');

describe('GetStateJson', () => {
  it('writes what encodeMessage writes, before and after tasks change', async () => {
    const master = running.master;
    const json = new GetStateJson(master);
    expect(json.encode().toString('utf8')).toBe(reference()); // An empty master: no task lists at all.

    const conn: AgentConnection = { open: true, send: () => {}, close: () => {} };
    const agents: string[] = [];
    for (let i = 0; i < 3; i++) {
      const agent = await master.registerAgent({
        agent_info: { hostname: `host-${i}`, port: 5051, resources: Resources.parse('cpus:8;mem:4096;ports:[31000-31010]').toProto(), attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }] },
        tasks: [], frameworks: [], version: 'test',
      } as never, conn);
      agents.push(agent.id);
    }
    const sink: EventSink = { send: () => {}, close: () => {}, queued: 0, queuedBytes: 0 };
    const call = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'fw', user: 'u', roles: ['web'], capabilities: [{ type: 'MULTI_ROLE' }], failover_timeout: 60 }, suppressed_roles: [] } };
    const fw = (await master.subscribe(call as unknown as Call, () => sink)).frameworkId;
    const resources = Resources.parse('cpus:0.5;mem:64;ports:[31000-31001]');
    const records: TaskRecord[] = [];
    for (let i = 0; i < 6; i++) {
      const taskId = `task-${i}`;
      const record: TaskRecord = {
        frameworkId: fw as FrameworkId, agentId: agents[i % 3]! as AgentId, taskId: taskId as TaskId, resources, state: i === 4 ? 'TASK_UNREACHABLE' : 'TASK_RUNNING',
        info: {
          name: `name ${i} "quoted" ünïcode`, task_id: { value: taskId }, resources: resources.toProto(),
          ...(i % 2 === 0 ? { command: { value: 'sleep 1', user: 'nobody' }, labels: { labels: [{ key: 'k', value: 'v' }] } } : {}),
          ...(i === 1 ? { health_check: { type: 'HTTP', http: { port: 80 } }, kill_policy: { grace_period: { nanoseconds: 5e9 } }, container: { type: 'MESOS' } } : {}),
        },
        status: i === 3 ? null : { task_id: { value: taskId }, state: 'TASK_RUNNING', timestamp: 1700000000.5, uuid: Buffer.from([1, 2, 3, 4]) },
        statusUuid: null, recovered: false, createdAt: master.now(),
      } as never;
      master.tasks.add(record);
      records.push(record);
    }
    master.version++;
    expect(json.encode().toString('utf8')).toBe(reference());

    // A task ends, another gets a new status: their texts are written again, the rest are kept.
    const ended = records[5]!;
    ended.status = { task_id: { value: ended.taskId }, state: 'TASK_FINISHED', timestamp: 1700000001 } as never;
    master.tasks.apply(ended, 'TASK_FINISHED');
    master.tasks.complete(ended);
    const changed = records[0]!;
    changed.status = { task_id: { value: changed.taskId }, state: 'TASK_RUNNING', timestamp: 1700000002, message: 'healthy', healthy: true } as never;
    master.version++;
    const after = json.encode().toString('utf8');
    expect(after).toBe(reference());
    expect(after).toContain('"message":"healthy"');
    expect(after).toContain('"completed_tasks":[');

    // Offers outstanding: the framework's view carries them, and changes with each allocation. A second
    // framework of another role gets some: the same resources offered to two roles are two texts.
    const other = { type: 'SUBSCRIBE', subscribe: { framework_info: { name: 'fw2', user: 'u', roles: ['batch'], capabilities: [{ type: 'MULTI_ROLE' }], failover_timeout: 60 }, suppressed_roles: [] } };
    await master.subscribe(other as unknown as Call, () => sink);
    for (let i = 3; i < 8; i++) {
      await master.registerAgent({
        agent_info: { hostname: `host-${i}`, port: 5051, resources: Resources.parse('cpus:8;mem:4096;ports:[31000-31010]').toProto(), attributes: [] },
        tasks: [], frameworks: [], version: 'test',
      } as never, conn);
    }
    master.runAllocation();
    expect(master.offers.view().size).toBeGreaterThan(0);
    expect(new Set([...master.offers.view().values()].map((o) => o.role))).toEqual(new Set(['web', 'batch']));
    master.version++;
    const offered = json.encode().toString('utf8');
    expect(offered).toBe(reference());
    expect(offered).toContain('"offers":[');
    for (const offer of [...master.offers.view().values()]) master.rescindOffer(offer.id, 'test');
    master.version++;
    expect(json.encode().toString('utf8')).toBe(reference());
  });
});
