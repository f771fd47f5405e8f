// protobufjs generates each message type's encoder, decoder and object
// converters the first time that type is used, once per protobufjs root (the
// wire root, which grpc-js encodes and decodes with, and protoRoot, which
// decodes scheduler events for the SDK: proto/index.ts). An OFFERS event reaches some twenty
// types (Offer, Resource and its values, Attribute, URL, ...): 40-60 ms of CPU
// in a fresh process, and on the first offer's path twice over, in the
// master's first OFFERS encode and in each scheduler process's first decode
// (round 8b in docs/scale/README.md). Warming up pays that once, off that
// path: a master as it starts, a scheduler process once its first SUBSCRIBED
// is handled (while the master makes its offers). The master's side covers
// its agent links too: a standby elected meets thousands of re-registrations
// at once, and generating their decoders then cost its take-over 160 ms of
// CPU at 5,000 agents (round 11).
import { messageCodec, protoRoot, type AgentMessageIn, type CallIn, type EventIn, type MasterMessageIn } from './index.js';
import { decodeSchedulerEvent, decodeWithRaw } from './status-presence.js';

const EVENT = messageCodec<EventIn, unknown>('mesos.v1.scheduler.Event');
const CALL = messageCodec<CallIn, unknown>('mesos.v1.scheduler.Call');
const AGENT_MESSAGE = messageCodec<AgentMessageIn, unknown>('mesos_ts.internal.AgentMessage');
const MASTER_MESSAGE = messageCodec<MasterMessageIn, unknown>('mesos_ts.internal.MasterMessage');

const id = (value: string) => ({ value });
const scalar = (name: string, value: number) => ({ name, type: 'SCALAR' as const, scalar: { value } });
const role = { role: 'role' };

/** An offer with the fields the master writes (master/rpc/wire.ts offerWire), reserved and unreserved resources. */
const OFFER = {
  id: id('O1'), framework_id: id('F1'), agent_id: id('S1'), hostname: 'host',
  url: { scheme: 'http', address: { hostname: 'host', ip: '127.0.0.1', port: 5051 }, path: '/slave(1)' },
  unavailability: { start: { nanoseconds: 1 }, duration: { nanoseconds: 1 } },
  resources: [
    { ...scalar('cpus', 1), allocation_info: role },
    { ...scalar('mem', 32), reservations: [{ type: 'DYNAMIC' as const, role: 'role', principal: 'p', labels: { labels: [{ key: 'k', value: 'v' }] } }], allocation_info: role },
    { name: 'ports', type: 'RANGES' as const, ranges: { range: [{ begin: 31000, end: 32000 }] }, allocation_info: role },
    { name: 'disks', type: 'SET' as const, set: { item: ['a'] }, allocation_info: role },
  ],
  attributes: [
    { name: 'rack', type: 'TEXT' as const, text: { value: 'r1' } },
    { name: 'index', type: 'SCALAR' as const, scalar: { value: 1 } },
    { name: 'slots', type: 'RANGES' as const, ranges: { range: [{ begin: 1, end: 2 }] } },
  ],
  allocation_info: role,
};

/** What a scheduler's stream carries most: offers and status updates. */
export const SAMPLE_EVENTS: readonly EventIn[] = [
  { type: 'SUBSCRIBED', subscribed: { framework_id: id('F1'), heartbeat_interval_seconds: 15, master_info: { id: 'M', ip: 1, port: 5050, hostname: 'm', version: 'v' } } },
  { type: 'OFFERS', offers: { offers: [OFFER] } },
  {
    type: 'UPDATE',
    update: {
      status: {
        task_id: id('T1'), state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'm', agent_id: id('S1'),
        executor_id: id('E1'), timestamp: 1, uuid: Buffer.from('u'), healthy: true, labels: { labels: [{ key: 'k', value: 'v' }] },
      },
    },
  },
  { type: 'RESCIND', rescind: { offer_id: id('O1') } },
  { type: 'HEARTBEAT' },
];

/** What a scheduler sends most: launches into offers, declines, acknowledgements. */
export const SAMPLE_CALLS: readonly CallIn[] = [
  {
    type: 'ACCEPT', framework_id: id('F1'),
    accept: {
      offer_ids: [id('O1')], filters: { refuse_seconds: 5 },
      operations: [{
        type: 'LAUNCH',
        launch: { task_infos: [{ name: 't', task_id: id('T1'), agent_id: id('S1'), resources: OFFER.resources, command: { value: 'true', shell: true } }] },
      }],
    },
  },
  { type: 'DECLINE', framework_id: id('F1'), decline: { offer_ids: [id('O1')], filters: { refuse_seconds: 5 } } },
  { type: 'ACKNOWLEDGE', framework_id: id('F1'), acknowledge: { agent_id: id('S1'), task_id: id('T1'), uuid: Buffer.from('u') } },
];

const STATUS = {
  task_id: id('T1'), state: 'TASK_RUNNING' as const, source: 'SOURCE_EXECUTOR' as const, reason: 'REASON_COMMAND_EXECUTOR_FAILED' as const, message: 'm',
  agent_id: id('S1'), executor_id: id('E1'), timestamp: 1, uuid: Buffer.from('u'), healthy: true, labels: { labels: [{ key: 'k', value: 'v' }] },
  container_status: { network_infos: [{ ip_addresses: [{ ip_address: '127.0.0.1' }] }] },
};

/** What an agent sends (agent/agent.ts): a re-registration with a task as it reports one, and a status update. */
export const SAMPLE_AGENT_MESSAGES: readonly AgentMessageIn[] = [
  {
    register: {
      agent_info: {
        id: id('S1'), hostname: 'host', port: 5051, resources: OFFER.resources, attributes: OFFER.attributes,
        domain: { fault_domain: { region: { name: 'r' }, zone: { name: 'z' } } },
      },
      tasks: [{
        name: 't', task_id: id('T1'), framework_id: id('F1'), agent_id: id('S1'), executor_id: id('T1'), state: 'TASK_RUNNING', resources: OFFER.resources,
        statuses: [STATUS], status_update_state: 'TASK_RUNNING', status_update_uuid: Buffer.from('u'),
        container: { type: 'DOCKER', docker: { image: 'i', network: 'HOST' }, volumes: [{ container_path: '/c', host_path: '/h', mode: 'RW' }] },
        kill_policy: { grace_period: { nanoseconds: 1 } }, labels: { labels: [{ key: 'k', value: 'v' }] },
        discovery: { visibility: 'FRAMEWORK', name: 'n', ports: { ports: [{ number: 80, name: 'http', protocol: 'tcp' }] } },
        health_check: { type: 'COMMAND', command: { value: 'true' }, interval_seconds: 1 },
      }],
      frameworks: [{ id: id('F1'), name: 'f', user: 'u', failover_timeout: 1, roles: ['role'], capabilities: [{ type: 'MULTI_ROLE' }] }],
      version: 'v', ip: '127.0.0.1', secret: 's',
    },
  },
  { status_update: { framework_id: id('F1'), status: STATUS } },
  { pong: { seq: 1 } },
];

/** What the master sends an agent most: its registration answered, launches, kills, acknowledgements, pings. */
export const SAMPLE_MASTER_MESSAGES: readonly MasterMessageIn[] = [
  { registered: { agent_id: id('S1'), master_info: { id: 'M', ip: 1, port: 5050, hostname: 'm', version: 'v' }, ping_interval_seconds: 15, secret: 's' } },
  {
    run_task: {
      framework: { id: id('F1'), name: 'f', user: 'u', failover_timeout: 1, roles: ['role'], capabilities: [{ type: 'MULTI_ROLE' }] },
      task: { ...SAMPLE_CALLS[0]!.accept!.operations![0]!.launch!.task_infos![0]!, labels: { labels: [{ key: 'k', value: 'v' }] }, kill_policy: { grace_period: { nanoseconds: 1 } } },
    },
  },
  { kill_task: { framework_id: id('F1'), task_id: id('T1'), kill_policy: { grace_period: { nanoseconds: 1 } } } },
  { acknowledgement: { agent_id: id('S1'), framework_id: id('F1'), task_id: id('T1'), uuid: Buffer.from('u') } },
  { ping: { seq: 1 } },
];

let masterWarm = false;
let schedulerWarm = false;

/** The master's side, once per process: events encoded, calls decoded. */
export function warmUpMasterCodecs(): void {
  if (masterWarm) return;
  masterWarm = true;
  for (const event of SAMPLE_EVENTS) EVENT.serialize(event);
  for (const call of SAMPLE_CALLS) CALL.deserialize(CALL.serialize(call));
  // Agent messages are decoded by our own root (master/rpc/status-presence.ts decodeAgentMessage), not the wire's.
  const agentMessage = protoRoot.lookupType('mesos_ts.internal.AgentMessage');
  for (const message of SAMPLE_AGENT_MESSAGES) decodeWithRaw(agentMessage, AGENT_MESSAGE.serialize(message));
  for (const message of SAMPLE_MASTER_MESSAGES) MASTER_MESSAGE.serialize(message);
}

/** A scheduler's side, once per process: events decoded (as the SDK decodes them), calls encoded. */
export function warmUpSchedulerCodecs(): void {
  if (schedulerWarm) return;
  schedulerWarm = true;
  for (const event of SAMPLE_EVENTS) decodeSchedulerEvent(EVENT.serialize(event));
  for (const call of SAMPLE_CALLS) CALL.serialize(call);
}
