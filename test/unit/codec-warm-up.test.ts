// proto/warm-up.ts: once a side has warmed up, what it encodes and decodes
// most (offers as the master writes them, status updates, launches, declines,
// acknowledgements) generates no more code, so a first offer does not pay for
// it. Counted, not timed: every protobufjs code generation goes through its
// util.codegen, in both copies of the library (the gRPC loader's and ours).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcObject, protoRoot, type CallIn, type EventIn, type EventOut } from '../../proto/index.js';
import { decodeSchedulerEvent } from '../../proto/status-presence.js';
import { warmUpMasterCodecs, warmUpSchedulerCodecs } from '../../proto/warm-up.js';
import { offerWire, frameworkWire } from '../../master/rpc/wire.js';
import { Resources } from '../../common/resources.js';
import { parseAttributes } from '../../agent/attributes.js';
import { acknowledgeCall, declineCall, launchCall } from '../../framework/sdk/calls.js';
import type { AgentId, AgentRecord, FrameworkId, OfferRecord } from '../../master/state/records.js';
import { decodeAgentMessage } from '../../master/rpc/status-presence.js';
import type { AgentMessageIn, MasterMessageIn } from '../../proto/index.js';

interface Util { codegen: (...args: unknown[]) => unknown }
const require = createRequire(import.meta.url);
const utils: Util[] = [
  (require('protobufjs') as { util: Util }).util,
  (createRequire(require.resolve('@grpc/proto-loader'))('protobufjs') as { util: Util }).util,
];
let generated = 0;
const originals = utils.map((u) => u.codegen);

beforeAll(() => {
  utils.forEach((u, i) => {
    const codegen = originals[i]!;
    u.codegen = (...args: unknown[]) => {
      generated++;
      return codegen(...args);
    };
  });
});
afterAll(() => utils.forEach((u, i) => (u.codegen = originals[i]!)));

/** How many code generations `work` caused. */
function generations(work: () => void): number {
  const before = generated;
  work();
  return generated - before;
}

type Method = { requestSerialize(m: CallIn): Buffer; requestDeserialize(b: Buffer): unknown; responseSerialize(m: EventIn): Buffer };
const service = grpcObject.mesos_ts.Scheduler.service as unknown as Record<string, Method>;

/** An agent and an offer on it, as the master keeps them; the event is what master/rpc/wire.ts writes. */
function offersEvent(count: number): EventIn {
  const agent = {
    id: 'M-S7' as AgentId, ip: '127.0.0.2', total: Resources.parse('cpus:8;mem:1024;ports:[31000-31999]'), connected: true,
    info: { hostname: 'agent-7', port: 5051, attributes: parseAttributes('rack:r3;index:7;slots:[1-4]') },
  } as unknown as AgentRecord;
  const offers = Array.from({ length: count }, (_, i): { offer: OfferRecord; agent: AgentRecord } => ({
    offer: { id: `M-O${i}`, frameworkId: 'M-0001' as FrameworkId, agentId: agent.id, role: '*', resources: Resources.parse('cpus:2;mem:512;ports:[31000-31010]'), createdAt: 1 } as OfferRecord,
    agent,
  }));
  expect(offerWire(offers[0]!.offer, agent, 'http').url?.address?.hostname).toBe('agent-7');
  return frameworkWire({ kind: 'offers', offers }, { agentScheme: 'http' } as never);
}

const update: EventIn = {
  type: 'UPDATE',
  update: { status: { task_id: { value: 'task-9' }, agent_id: { value: 'M-S7' }, state: 'TASK_STARTING', source: 'SOURCE_EXECUTOR', timestamp: 5.5, uuid: Buffer.from('x') } },
};

describe('codec warm-up', () => {
  it('counts what it should: a message type used for the first time generates its code', () => {
    const response = protoRoot.lookupType('mesos.v1.master.Response');
    expect(generations(() => response.encode(response.fromObject({ type: 'GET_HEALTH', get_health: { healthy: true } })).finish())).toBeGreaterThan(0);
  });

  it("the master's side: after it, offers and updates encode and calls decode without generating code", () => {
    expect(generations(warmUpMasterCodecs)).toBeGreaterThan(0);
    const calls = [
      launchCall({ id: { value: 'M-O1' } } as never, [{ name: 't', task_id: { value: 't1' }, agent_id: { value: 'M-S7' }, resources: Resources.parse('cpus:0.1;mem:32').toProto(), command: { value: 'sleep 1' } }], 0),
      declineCall([{ id: { value: 'M-O2' } }, { id: { value: 'M-O3' } }] as never, 0.2),
      acknowledgeCall({ task_id: { value: 't1' }, agent_id: { value: 'M-S7' }, uuid: Buffer.from('u') }),
    ].map((c) => ({ ...c, framework_id: { value: 'M-0001' } }));
    const bytes = calls.map((c) => service.Accept!.requestSerialize(c)); // the scheduler's side: not counted here
    expect(generations(() => {
      service.Subscribe!.responseSerialize(offersEvent(50));
      service.Subscribe!.responseSerialize(update);
      for (const b of bytes) service.Accept!.requestDeserialize(b);
    })).toBe(0);
    expect(generations(warmUpMasterCodecs)).toBe(0); // once per process
  });

  it("the master's agent links: after it, re-registrations with tasks and status updates decode, and its answers encode, without generating code", () => {
    warmUpMasterCodecs(); // Done by the test above; here in case this one runs alone.
    const link = grpcObject.mesos_ts.internal.AgentLink.service as unknown as Record<string, {
      requestSerialize(m: AgentMessageIn): Buffer; responseSerialize(m: MasterMessageIn): Buffer;
    }>;
    const resources = Resources.parse('cpus:0.5;mem:64;ports:[31000-31001]').toProto();
    const status = { task_id: { value: 'web-1' }, agent_id: { value: 'M-S7' }, state: 'TASK_RUNNING' as const, source: 'SOURCE_EXECUTOR' as const, timestamp: 7.5, uuid: Buffer.from('v'), healthy: true };
    const agentSide = [ // What agent/agent.ts sends (not counted: the agent's side).
      {
        register: {
          agent_info: { id: { value: 'M-S7' }, hostname: 'agent-7', port: 5051, resources: Resources.parse('cpus:8;mem:1024;ports:[31000-31999]').toProto(), attributes: parseAttributes('rack:r3;index:7;slots:[1-4]') },
          tasks: Array.from({ length: 20 }, (_, i) => ({
            name: `web-${i}`, task_id: { value: `web-${i}` }, framework_id: { value: 'M-0001' }, agent_id: { value: 'M-S7' }, executor_id: { value: `web-${i}` },
            state: 'TASK_RUNNING' as const, resources, statuses: [status], status_update_state: 'TASK_RUNNING' as const, status_update_uuid: Buffer.from('v'),
            labels: { labels: [{ key: 'app', value: 'web' }] },
          })),
          frameworks: [{ id: { value: 'M-0001' }, name: 'web', user: 'root', failover_timeout: 60, roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' as const }] }],
          version: '1', ip: '127.0.0.1', secret: 'secret',
        },
      },
      { status_update: { framework_id: { value: 'M-0001' }, status: { ...status, state: 'TASK_FINISHED' as const, message: 'done' } } },
    ].map((m) => link.Connect!.requestSerialize(m));
    let decoded: ReturnType<typeof decodeAgentMessage>[] = [];
    expect(generations(() => {
      decoded = agentSide.map(decodeAgentMessage);
      link.Connect!.responseSerialize({ registered: { agent_id: { value: 'M-S7' }, master_info: { id: 'M', ip: 1, port: 5050, hostname: 'm', version: '1' }, ping_interval_seconds: 15 } });
      link.Connect!.responseSerialize({ acknowledgement: { agent_id: { value: 'M-S7' }, framework_id: { value: 'M-0001' }, task_id: { value: 'web-1' }, uuid: Buffer.from('v') } });
      link.Connect!.responseSerialize({ ping: { seq: 3 } });
    })).toBe(0);
    expect(decoded[0]!.register!.tasks).toHaveLength(20);
    expect(decoded[1]!.status_update!.status!.state).toBe('TASK_FINISHED');
  });

  it("a scheduler's side: after it, offers and updates decode and calls encode without generating code", () => {
    const events = [offersEvent(50), update].map((e) => service.Subscribe!.responseSerialize(e)); // the master's side: not counted here
    expect(generations(warmUpSchedulerCodecs)).toBeGreaterThan(0);
    let decoded: EventOut[] = [];
    expect(generations(() => {
      decoded = events.map(decodeSchedulerEvent);
      service.Decline!.requestSerialize({ ...declineCall([{ id: { value: 'M-O2' } }] as never, 1), framework_id: { value: 'M-0001' } });
    })).toBe(0);
    expect(decoded[0]!.offers!.offers).toHaveLength(50);
    expect(decoded[0]!.offers!.offers[0]!.attributes.map((a) => a.name)).toEqual(['rack', 'index', 'slots']);
    expect(decoded[1]!.update!.status!.state).toBe('TASK_STARTING');
  });
});
