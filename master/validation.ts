// Validation of scheduler calls at the edge, before anything changes.
// Each check names the field and the value it rejects; a call that fails
// validation is answered with InvalidArgument and leaves the master as it was.
import type { Call, FrameworkInfoOut } from '../proto/index.js';
import { isIP } from 'node:net';
import { InvalidArgument } from '../common/errors.js';
import { Resources } from '../common/resources.js';
import { TASK_STATES } from '../common/task-state.js';
import type { RegisterAgent__Output } from '../proto/gen/mesos_ts/internal/RegisterAgent.js';
import type { AgentRegistration } from './operations/agent-registration.js';
import type { AgentId, FrameworkId, TaskId } from './state/records.js';

/** The field of Call that must be set for each call type. */
const PAYLOAD: Partial<Record<Call['type'], keyof Call | null>> = {
  SUBSCRIBE: 'subscribe',
  TEARDOWN: null,
  ACCEPT: 'accept',
  DECLINE: 'decline',
  REVIVE: null,
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  RECONCILE: 'reconcile',
  MESSAGE: 'message',
  REQUEST: 'request',
  SUPPRESS: null,
  UPDATE_FRAMEWORK: 'update_framework',
  ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
  DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
};

export const ROLE_PATTERN = /^(?!\.{1,2}$)(?!-)[^\s/\\]+$/;

export function validateRole(role: string, field: string): void {
  if (role === '*') return;
  if (!ROLE_PATTERN.test(role) || role.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new InvalidArgument(`${field}: '${role}' is not a valid role name`);
  }
}

/** Checks the shape of a call: a known type, the matching payload, a framework id where needed. */
export function validateCall(call: Call, expected?: Call['type']): void {
  if (!call.type || call.type === 'UNKNOWN') throw new InvalidArgument(`Call.type is missing or UNKNOWN`);
  if (expected && call.type !== expected) {
    throw new InvalidArgument(`Call.type is ${call.type} but this method takes ${expected}`);
  }
  if (!(call.type in PAYLOAD)) throw new InvalidArgument(`Call.type ${call.type} is not supported by mesos-ts`);
  const payload = PAYLOAD[call.type];
  if (payload && !call[payload]) throw new InvalidArgument(`Call.${payload} is required for a ${call.type} call`);
  if (call.type !== 'SUBSCRIBE' && !call.framework_id?.value) {
    throw new InvalidArgument(`Call.framework_id is required for a ${call.type} call`);
  }
  switch (call.type) {
    case 'SUBSCRIBE':
      return validateSubscribe(call);
    case 'ACCEPT':
      if (call.accept!.offer_ids.length === 0) throw new InvalidArgument('Call.accept.offer_ids is empty');
      return checkFilters(call.accept!.filters?.refuse_seconds, 'Call.accept.filters.refuse_seconds');
    case 'DECLINE':
      if (call.decline!.offer_ids.length === 0) throw new InvalidArgument('Call.decline.offer_ids is empty');
      return checkFilters(call.decline!.filters?.refuse_seconds, 'Call.decline.filters.refuse_seconds');
    case 'KILL':
      if (!call.kill!.task_id?.value) throw new InvalidArgument('Call.kill.task_id is required');
      return;
    case 'ACKNOWLEDGE': {
      const ack = call.acknowledge!;
      if (!ack.agent_id?.value) throw new InvalidArgument('Call.acknowledge.agent_id is required');
      if (!ack.task_id?.value) throw new InvalidArgument('Call.acknowledge.task_id is required');
      if (ack.uuid.length !== 16) throw new InvalidArgument(`Call.acknowledge.uuid must be 16 bytes, got ${ack.uuid.length}`);
      return;
    }
    case 'RECONCILE':
      call.reconcile!.tasks.forEach((t, i) => {
        if (!t.task_id?.value) throw new InvalidArgument(`Call.reconcile.tasks[${i}].task_id is required`);
      });
      return;
    case 'SHUTDOWN':
    case 'MESSAGE': {
      const m = call.type === 'SHUTDOWN' ? call.shutdown! : call.message!;
      if (!m.agent_id?.value) throw new InvalidArgument(`Call.${payload}.agent_id is required`);
      if (!m.executor_id?.value) throw new InvalidArgument(`Call.${payload}.executor_id is required`);
      return;
    }
    case 'REVIVE':
    case 'SUPPRESS': {
      const roles = (call.type === 'REVIVE' ? call.revive?.roles : call.suppress?.roles) ?? [];
      roles.forEach((r, i) => validateRole(r, `Call.${call.type.toLowerCase()}.roles[${i}]`));
      return;
    }
    case 'UPDATE_FRAMEWORK':
      return validateFrameworkInfo(call.update_framework!.framework_info, 'Call.update_framework.framework_info', true);
    default:
      return;
  }
}

function validateSubscribe(call: Call): void {
  const info = call.subscribe!.framework_info;
  validateFrameworkInfo(info, 'Call.subscribe.framework_info', false);
  const idInInfo = info?.id?.value ?? '';
  const idInCall = call.framework_id?.value ?? '';
  if (idInCall !== '' && idInCall !== idInInfo) {
    throw new InvalidArgument(`Call.framework_id '${idInCall}' differs from Call.subscribe.framework_info.id '${idInInfo}'`);
  }
}

export function validateFrameworkInfo(info: FrameworkInfoOut | null, field: string, needsId: boolean): void {
  if (!info) throw new InvalidArgument(`${field} is required`);
  if (!info.name) throw new InvalidArgument(`${field}.name is required`);
  if (needsId && !info.id?.value) throw new InvalidArgument(`${field}.id is required`);
  if (!Number.isFinite(info.failover_timeout) || info.failover_timeout < 0) {
    throw new InvalidArgument(`${field}.failover_timeout must be a non-negative number of seconds, got ${info.failover_timeout}`);
  }
  info.roles.forEach((r, i) => validateRole(r, `${field}.roles[${i}]`));
  if (new Set(info.roles).size !== info.roles.length) throw new InvalidArgument(`${field}.roles has duplicates`);
  const multiRole = info.capabilities.some((c) => c.type === 'MULTI_ROLE');
  if (info.roles.length > 0 && !multiRole) {
    throw new InvalidArgument(`${field}.roles needs the MULTI_ROLE capability (or use the deprecated ${field}.role)`);
  }
  if (info.role) validateRole(info.role, `${field}.role`);
}

function checkFilters(refuse: number | undefined, field: string): void {
  if (refuse !== undefined && (!Number.isFinite(refuse) || refuse < 0)) {
    throw new InvalidArgument(`${field} must be a non-negative number of seconds, got ${refuse}`);
  }
}

/** The roles a framework subscribes with: `roles` with MULTI_ROLE, else the single `role`. */
export function frameworkRoles(info: { roles: string[]; role: string; capabilities: { type: string }[] }): string[] {
  const multiRole = info.capabilities.some((c) => c.type === 'MULTI_ROLE');
  if (multiRole && info.roles.length > 0) return [...info.roles];
  return [info.role || '*'];
}

/** RegisterAgent as the master's admitAgent takes it; throws InvalidArgument naming the bad field. */
export function readRegistration(message: RegisterAgent__Output): AgentRegistration {
  const info = message.agent_info;
  if (!info) throw new InvalidArgument('RegisterAgent.agent_info is required');
  if (!info.hostname) throw new InvalidArgument('RegisterAgent.agent_info.hostname is required');
  // The master reaches agents by these (the web UI's proxy, Offer.url): a host name or an address, a port, nothing else.
  if (!isHostname(info.hostname)) throw new InvalidArgument(`RegisterAgent.agent_info.hostname '${info.hostname.slice(0, 80)}' is not a host name or IP address`);
  if (!Number.isInteger(info.port) || info.port < 1 || info.port > 65535) throw new InvalidArgument(`RegisterAgent.agent_info.port ${info.port} is not a port`);
  if (message.ip && !isIP(message.ip)) throw new InvalidArgument(`RegisterAgent.ip '${message.ip.slice(0, 80)}' is not an IP address`);
  const total = Resources.fromProto(info.resources, 'RegisterAgent.agent_info.resources');
  if (total.isEmpty()) throw new InvalidArgument('RegisterAgent.agent_info.resources is empty: an agent must offer something');
  const tasks = message.tasks.map((t, i) => {
    if (!t.task_id?.value || !t.framework_id?.value) {
      throw new InvalidArgument(`RegisterAgent.tasks[${i}] needs task_id and framework_id`);
    }
    // Task.state is required (Mesos): a state no TaskState has is not taken for TASK_STAGING.
    if (!TASK_STATES.has(t.state)) throw new InvalidArgument(`RegisterAgent.tasks[${i}].state ${t.state === undefined ? 'is required' : `${String(t.state)} is not a TaskState`}`);
    if (t.status_update_state != null && !TASK_STATES.has(t.status_update_state)) {
      throw new InvalidArgument(`RegisterAgent.tasks[${i}].status_update_state ${String(t.status_update_state)} is not a TaskState`);
    }
    return {
      frameworkId: t.framework_id.value as FrameworkId, taskId: t.task_id.value as TaskId, name: t.name, state: t.state,
      resources: Resources.fromProto(t.resources, `RegisterAgent.tasks[${i}].resources`),
      info: {
        name: t.name, task_id: t.task_id, resources: t.resources, container: t.container,
        ...(t.labels ? { labels: t.labels } : {}), ...(t.discovery ? { discovery: t.discovery } : {}),
        ...(t.health_check ? { health_check: t.health_check } : {}), ...(t.kill_policy ? { kill_policy: t.kill_policy } : {}),
      },
      latest: t.statuses[t.statuses.length - 1] ?? null,
      // Set together or not at all (Mesos).
      inFlight: t.status_update_uuid && t.status_update_uuid.length > 0 && t.status_update_state
        ? { state: t.status_update_state, uuid: Buffer.from(t.status_update_uuid) } : null,
    };
  });
  // An agent that does not say (an older one) is taken at its hostname when that is an address.
  const ip = message.ip || (isIP(info.hostname) ? info.hostname : '');
  return { info, ip, requestedId: (info.id?.value || null) as AgentId | null, total, tasks, version: message.version ?? '', secret: message.secret ?? '' };
}

/** A DNS host name (RFC 1123 labels) or an IP address. */
export function isHostname(name: string): boolean {
  if (isIP(name)) return true;
  if (name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}
