// The operator's write calls and the settings they change: each Call is
// checked here, at the edge (errors name the field), and becomes one of the
// master's operations (../operations/operator-calls.ts, maintenance.ts);
// the caller hears back once the registry holds the change. The GET calls
// for the same settings (flags, weights, quota, maintenance) read the
// master's state.
import type { OperatorCall, OperatorResponse } from '../../proto/index.js';
import { InvalidArgument } from '../../common/errors.js';
import { Resources } from '../../common/resources.js';
import type { ClusterState } from '../state/cluster.js';
import { machineKey, type MachineId, type MaintenanceWindow } from '../state/maintenance.js';
import type { Effects, OpContext } from '../operations/effects.js';
import {
  deactivateAgent, drainAgentByOperator, markGoneByOperator, operatorReservation, reactivateAgent, teardownFramework, updateQuota, updateWeights,
  type QuotaChange,
} from '../operations/operator-calls.js';
import { startMaintenance, stopMaintenance, updateMaintenanceSchedule } from '../operations/maintenance.js';
import { unavailabilityWire } from '../rpc/wire.js';
import { validateRole } from '../validation.js';

export const WRITE_CALLS = [
  'UPDATE_WEIGHTS', 'UPDATE_QUOTA', 'SET_QUOTA', 'REMOVE_QUOTA', 'TEARDOWN', 'RESERVE_RESOURCES', 'UNRESERVE_RESOURCES',
  'UPDATE_MAINTENANCE_SCHEDULE', 'START_MAINTENANCE', 'STOP_MAINTENANCE', 'DRAIN_AGENT', 'DEACTIVATE_AGENT', 'REACTIVATE_AGENT', 'MARK_AGENT_GONE',
] as const;
export type WriteCall = (typeof WRITE_CALLS)[number];

export const isWriteCall = (type: string): type is WriteCall => (WRITE_CALLS as readonly string[]).includes(type);

export type Operation = (state: ClusterState, fx: Effects, ctx: OpContext) => void;

/** The operation a write call asks for; throws InvalidArgument, naming the field, when the call is malformed. */
export function writeOperation(type: WriteCall, call: OperatorCall): Operation {
  const need = <T>(value: T | null | undefined, field: string): T => {
    if (value === null || value === undefined) throw new InvalidArgument(`Call.${field} is required for ${type}`);
    return value;
  };
  const agentId = (field: string, id: { value: string } | null | undefined) => {
    const value = need(id, `${field}.agent_id`).value;
    if (!value) throw new InvalidArgument(`Call.${field}.agent_id.value is empty`);
    return value;
  };
  switch (type) {
    case 'UPDATE_WEIGHTS': {
      const infos = need(call.update_weights, 'update_weights').weight_infos;
      if (infos.length === 0) throw new InvalidArgument('Call.update_weights.weight_infos is empty');
      const weights = new Map<string, number>();
      infos.forEach((w, i) => {
        validateRole(w.role, `Call.update_weights.weight_infos[${i}].role`);
        if (w.role === '*') throw new InvalidArgument(`Call.update_weights.weight_infos[${i}].role: '*' has no weight`);
        if (!(w.weight > 0) || !Number.isFinite(w.weight)) throw new InvalidArgument(`Call.update_weights.weight_infos[${i}].weight must be positive, got ${w.weight}`);
        weights.set(w.role, w.weight);
      });
      return (state, fx, ctx) => updateWeights(state, fx, ctx, weights);
    }
    case 'UPDATE_QUOTA': {
      const configs = need(call.update_quota, 'update_quota').quota_configs;
      if (configs.length === 0) throw new InvalidArgument('Call.update_quota.quota_configs is empty');
      const changes = configs.map((c, i): QuotaChange => {
        const field = `Call.update_quota.quota_configs[${i}]`;
        validateRole(c.role, `${field}.role`);
        if (c.role === '*') throw new InvalidArgument(`${field}.role: '*' cannot have quota`);
        const guarantee = scalarMap(c.guarantees, `${field}.guarantees`);
        const limit = Object.keys(c.limits).length > 0 ? scalarMap(c.limits, `${field}.limits`) : null;
        if (limit) {
          for (const name of guarantee.names()) {
            if (guarantee.scalar(name) > limit.scalar(name) && limit.names().includes(name)) {
              throw new InvalidArgument(`${field}: the guarantee of ${name} (${guarantee.scalar(name)}) is above its limit (${limit.scalar(name)})`);
            }
          }
        }
        return { role: c.role, guarantee, limit };
      });
      return (state, fx, ctx) => updateQuota(state, fx, ctx, changes);
    }
    case 'SET_QUOTA': {
      const request = need(need(call.set_quota, 'set_quota').quota_request, 'set_quota.quota_request');
      validateRole(request.role, 'Call.set_quota.quota_request.role');
      const guarantee = Resources.fromProto(request.guarantee, 'Call.set_quota.quota_request.guarantee');
      const scalars = Resources.scalars(Object.fromEntries(guarantee.names().map((n) => [n, guarantee.scalar(n)])));
      return (state, fx, ctx) => updateQuota(state, fx, ctx, [{ role: request.role, guarantee: scalars, limit: null }]);
    }
    case 'REMOVE_QUOTA': {
      const role = need(call.remove_quota, 'remove_quota').role;
      validateRole(role, 'Call.remove_quota.role');
      return (state, fx, ctx) => updateQuota(state, fx, ctx, [{ role, guarantee: Resources.EMPTY, limit: null }]);
    }
    case 'TEARDOWN': {
      const id = need(need(call.teardown, 'teardown').framework_id, 'teardown.framework_id').value;
      if (!id) throw new InvalidArgument('Call.teardown.framework_id.value is empty');
      return (state, fx, ctx) => teardownFramework(state, fx, ctx, id);
    }
    case 'RESERVE_RESOURCES':
    case 'UNRESERVE_RESOURCES': {
      const field = type === 'RESERVE_RESOURCES' ? 'reserve_resources' : 'unreserve_resources';
      const body = need(type === 'RESERVE_RESOURCES' ? call.reserve_resources : call.unreserve_resources, field);
      const id = agentId(field, body.agent_id);
      const resources = Resources.fromProto(body.resources, `Call.${field}.resources`);
      return (state, fx, ctx) => operatorReservation(state, fx, ctx, type === 'RESERVE_RESOURCES' ? 'RESERVE' : 'UNRESERVE', id, resources);
    }
    case 'UPDATE_MAINTENANCE_SCHEDULE': {
      const schedule = need(need(call.update_maintenance_schedule, 'update_maintenance_schedule').schedule, 'update_maintenance_schedule.schedule');
      const windows = schedule.windows.map((w, i): MaintenanceWindow => {
        const field = `Call.update_maintenance_schedule.schedule.windows[${i}]`;
        if (w.machine_ids.length === 0) throw new InvalidArgument(`${field}.machine_ids is empty`);
        const start = w.unavailability?.start?.nanoseconds;
        if (start === undefined || start === null) throw new InvalidArgument(`${field}.unavailability.start is required`);
        const duration = w.unavailability?.duration?.nanoseconds;
        if (duration !== undefined && duration !== null && duration < 0) throw new InvalidArgument(`${field}.unavailability.duration is negative`);
        return { machines: machines(w.machine_ids, `${field}.machine_ids`), start: Number(start) / 1e9, duration: duration === undefined || duration === null ? null : Number(duration) / 1e9 };
      });
      return (state, fx, ctx) => updateMaintenanceSchedule(state, fx, ctx, windows);
    }
    case 'START_MAINTENANCE': {
      const list = machines(need(call.start_maintenance, 'start_maintenance').machines, 'Call.start_maintenance.machines');
      return (state, fx, ctx) => startMaintenance(state, fx, ctx, list);
    }
    case 'STOP_MAINTENANCE': {
      const list = machines(need(call.stop_maintenance, 'stop_maintenance').machines, 'Call.stop_maintenance.machines');
      return (state, fx, ctx) => stopMaintenance(state, fx, ctx, list);
    }
    case 'DRAIN_AGENT': {
      const body = need(call.drain_agent, 'drain_agent');
      const id = agentId('drain_agent', body.agent_id);
      const grace = body.max_grace_period ? Number(body.max_grace_period.seconds) + Number(body.max_grace_period.nanos) / 1e9 : null;
      if (grace !== null && !(grace >= 0)) throw new InvalidArgument(`Call.drain_agent.max_grace_period must not be negative, got ${grace}s`);
      return (state, fx, ctx) => drainAgentByOperator(state, fx, ctx, id, grace, body.mark_gone);
    }
    case 'DEACTIVATE_AGENT': {
      const id = agentId('deactivate_agent', need(call.deactivate_agent, 'deactivate_agent').agent_id);
      return (state, fx, ctx) => deactivateAgent(state, fx, ctx, id);
    }
    case 'REACTIVATE_AGENT': {
      const id = agentId('reactivate_agent', need(call.reactivate_agent, 'reactivate_agent').agent_id);
      return (state, fx, ctx) => reactivateAgent(state, fx, ctx, id);
    }
    case 'MARK_AGENT_GONE': {
      const id = agentId('mark_agent_gone', need(call.mark_agent_gone, 'mark_agent_gone').agent_id);
      return (state, fx, ctx) => markGoneByOperator(state, fx, ctx, id);
    }
  }
}

function scalarMap(map: Record<string, { value: number }>, field: string): Resources {
  const values: Record<string, number> = {};
  for (const [name, scalar] of Object.entries(map)) {
    if (!(scalar.value >= 0) || !Number.isFinite(scalar.value)) throw new InvalidArgument(`${field}[${name}] must be a non-negative number, got ${scalar.value}`);
    values[name] = scalar.value;
  }
  return Resources.scalars(values);
}

function machines(list: readonly { hostname: string; ip: string }[], field: string): MachineId[] {
  return list.map((m, i) => {
    if (!m.hostname && !m.ip) throw new InvalidArgument(`${field}[${i}] needs a hostname or an ip`);
    return { hostname: m.hostname, ip: m.ip };
  });
}

// ---- the GET calls for the same settings ------------------------------------

const machineWire = (m: MachineId) => ({ ...(m.hostname ? { hostname: m.hostname } : {}), ...(m.ip ? { ip: m.ip } : {}) });

export function getWeights(state: ClusterState): OperatorResponse {
  return { type: 'GET_WEIGHTS', get_weights: { weight_infos: [...state.weights].map(([role, weight]) => ({ role, weight })) } };
}

export function getQuota(state: ClusterState): OperatorResponse {
  const scalars = (r: Resources) => Object.fromEntries(r.names().map((n) => [n, { value: r.scalar(n) }]));
  const quotas = [...state.quotas];
  return {
    type: 'GET_QUOTA',
    get_quota: {
      status: {
        infos: quotas.map(([role, q]) => ({ role, guarantee: q.guarantee.toProto() })),
        configs: quotas.map(([role, q]) => ({ role, guarantees: scalars(q.guarantee), limits: q.limit ? scalars(q.limit) : {} })),
      },
    },
  };
}

export function getMaintenanceSchedule(state: ClusterState): OperatorResponse {
  return {
    type: 'GET_MAINTENANCE_SCHEDULE',
    get_maintenance_schedule: {
      schedule: {
        windows: state.maintenance.windows.map((w) => ({ machine_ids: w.machines.map(machineWire), unavailability: unavailabilityWire(w) })),
      },
    },
  };
}

export function getMaintenanceStatus(state: ClusterState): OperatorResponse {
  const m = state.maintenance;
  const draining = m.windows.flatMap((w) => w.machines).filter((x) => !m.isDownMachine(x));
  return {
    type: 'GET_MAINTENANCE_STATUS',
    get_maintenance_status: {
      status: {
        draining_machines: draining.map((id) => ({
          id: machineWire(id),
          statuses: [...(m.answers.get(machineKey(id)) ?? new Map())].map(([frameworkId, a]) => ({
            status: a.status, framework_id: { value: frameworkId }, timestamp: { nanoseconds: Math.round(a.timestamp * 1e9) },
          })),
        })),
        down_machines: m.down.map(machineWire),
      },
    },
  };
}

export function getFlags(flags: Readonly<Record<string, string>>): OperatorResponse {
  return { type: 'GET_FLAGS', get_flags: { flags: Object.entries(flags).map(([name, value]) => ({ name, value })) } };
}
