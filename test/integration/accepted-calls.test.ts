// --log_accepted_calls: the leader logs every call it accepts, so that the
// fault tests can check from the masters' own logs that no two leaders ever
// act at once. An agent's messages after its registration (status updates,
// draining) change the master's state too and are logged like its
// registration; pongs change nothing and are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { protoRoot } from '../../proto/index.js';
import { startMaster, type RunningMaster } from '../../master/main.js';
import { RawGrpc, agentLinkExchange, type LinkAnswer } from '../harness/fuzz-cluster.js';
import { encode } from '../harness/fuzz-arbitraries.js';
import { waitUntil } from '../harness/wait-until.js';

const AGENT_MESSAGE = protoRoot.lookupType('mesos_ts.internal.AgentMessage');
const MASTER_MESSAGE = protoRoot.lookupType('mesos_ts.internal.MasterMessage');
const decode = (b: Buffer) => MASTER_MESSAGE.toObject(MASTER_MESSAGE.decode(b), { oneofs: true }) as LinkAnswer['messages'][number];

let master: RunningMaster;
let raw: RawGrpc;
const lines: string[] = [];
const accepted = () => lines.filter((l) => l.includes('accepted call')).length;

beforeAll(async () => {
  master = await startMaster({ port: 0, grpc_port: 0, log_accepted_calls: true }, (line) => lines.push(line));
  raw = new RawGrpc(master.grpcAddress);
}, 60_000);
afterAll(async () => {
  raw?.close();
  await master?.stop();
});

describe('--log_accepted_calls', () => {
  it("logs an agent's registration and each status update and draining message after it, not its pongs", async () => {
    const status = (task: string) => encode(AGENT_MESSAGE, {
      status_update: { framework_id: { value: 'no-such-framework' }, status: { task_id: { value: task }, state: 'TASK_RUNNING', uuid: Buffer.alloc(16, 1) } },
    });
    const messages = [
      encode(AGENT_MESSAGE, { register: { agent_info: { hostname: 'accepted-calls', port: 5051, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }] } } }),
      status('t1'), encode(AGENT_MESSAGE, { pong: { seq: 1 } }), status('t2'), encode(AGENT_MESSAGE, { pong: { seq: 2 } }), encode(AGENT_MESSAGE, { draining: { reason: 'test' } }),
    ];
    const before = accepted();
    const answer = await agentLinkExchange(raw, messages, decode);
    expect(answer.messages[0]?.kind).toBe('registered');
    expect(answer.code).toBe(grpc.status.OK);
    // The registration, two status updates and the draining message: four calls accepted.
    await waitUntil(() => accepted() - before >= 4, 10_000, 'four accepted-call lines');
    expect(accepted() - before).toBe(4);
  });
});
