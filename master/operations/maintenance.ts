// Maintenance operations (see ../state/maintenance.ts for the model):
// posting a schedule, bringing machines down and up, and frameworks'
// answers to inverse offers. Each is written to the registry before the
// master acts on it, so a new leader has the same schedule and the same
// machines down.
import { InvalidArgument } from '../../common/errors.js';
import type { ClusterState } from '../state/cluster.js';
import { machineKey, type MachineId, type MaintenanceWindow } from '../state/maintenance.js';
import type { AgentRecord, FrameworkId, FrameworkRecord } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';
import { rescindOffer } from './offers.js';
import { markGoneByOperator } from './operator-calls.js';

const describe = (m: MachineId) => JSON.stringify(m.ip ? m : { hostname: m.hostname });

function persist(state: ClusterState, fx: Effects): void {
  const plain = (m: MachineId) => ({ hostname: m.hostname, ip: m.ip });
  fx.write({
    op: 'setMaintenance',
    windows: state.maintenance.windows.map((w) => ({ machines: w.machines.map(plain), start: w.start, duration: w.duration })),
    down: state.maintenance.down.map(plain),
  });
}

/**
 * UPDATE_MAINTENANCE_SCHEDULE: replaces the schedule. A machine may be in
 * one window only, and a machine that is DOWN must stay in the schedule.
 * Agents entering a window have their offers rescinded (new ones carry the
 * unavailability) and their frameworks get inverse offers; agents leaving it
 * have their inverse offers rescinded.
 */
export function updateMaintenanceSchedule(state: ClusterState, fx: Effects, ctx: OpContext, windows: readonly MaintenanceWindow[]): void {
  const seen = new Set<string>();
  for (const w of windows) {
    for (const m of w.machines) {
      if (seen.has(machineKey(m))) throw new InvalidArgument(`machine ${describe(m)} is in more than one maintenance window`);
      seen.add(machineKey(m));
    }
  }
  for (const m of state.maintenance.down) {
    if (!seen.has(machineKey(m))) throw new InvalidArgument(`machine ${describe(m)} is DOWN and must stay in the schedule (bring it up with STOP_MAINTENANCE)`);
  }
  state.maintenance.windows = windows;
  for (const key of [...state.maintenance.answers.keys()]) if (!seen.has(key)) state.maintenance.answers.delete(key);
  persist(state, fx);
  ctx.logger.info(`maintenance schedule: ${windows.length} window(s), ${seen.size} machine(s)`);
  for (const agent of state.agents.values()) applyUnavailability(state, fx, ctx, agent);
  fx.allocate();
}

/** Brings an agent's unavailability in line with the schedule: offers rescinded and inverse offers sent or taken back when it changes. */
export function applyUnavailability(state: ClusterState, fx: Effects, ctx: OpContext, agent: AgentRecord): void {
  const found = state.maintenance.windowOf(agent.info.hostname, agent.ip);
  const next = found ? { start: found.window.start, duration: found.window.duration } : null;
  const before = agent.unavailability ?? null;
  if (before?.start === next?.start && before?.duration === next?.duration) return;
  agent.unavailability = next;
  for (const offer of state.offers.ofAgent(agent.id)) rescindOffer(state, fx, ctx, offer.id, `agent ${agent.id}'s maintenance window changed`);
  for (const [id, io] of state.maintenance.inverseOffers) {
    if (io.agentId !== agent.id) continue;
    state.maintenance.inverseOffers.delete(id);
    fx.toFramework(io.frameworkId as FrameworkId, { kind: 'rescindInverseOffer', id });
  }
  if (!found || !agent.connected) return;
  const frameworks = new Set<string>();
  for (const t of state.tasks.ofAgent(agent.id)) frameworks.add(t.frameworkId);
  for (const fw of frameworks) sendInverseOffer(state, fx, ctx, state.framework(fw), agent, machineKey(found.machine));
}

function sendInverseOffer(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord | undefined, agent: AgentRecord, machine: string): void {
  if (!fw?.connected) return;
  const id = ctx.ids.offer();
  state.maintenance.inverseOffers.set(id, { id, frameworkId: fw.id, agentId: agent.id, machine });
  fx.toFramework(fw.id, { kind: 'inverseOffers', frameworkId: fw.id, offers: [{ id, agent }] });
}

/** ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS: the answer is kept for GET_MAINTENANCE_STATUS. */
export function answerInverseOffers(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, ids: readonly string[], accept: boolean): void {
  for (const id of ids) {
    const io = state.maintenance.inverseOffers.get(id);
    if (!io || io.frameworkId !== fw.id) {
      ctx.logger.warn({ framework_id: fw.id }, `framework ${fw.id} answered unknown inverse offer ${id}; ignored`);
      continue;
    }
    state.maintenance.inverseOffers.delete(id);
    const answers = state.maintenance.answers.get(io.machine) ?? new Map();
    answers.set(fw.id, { status: accept ? 'ACCEPT' : 'DECLINE', timestamp: ctx.now });
    state.maintenance.answers.set(io.machine, answers);
  }
  if (ids.length > 0) fx.allocate();
}

/** START_MAINTENANCE: DRAINING machines go DOWN; their agents are removed (and told to shut down). */
export function startMaintenance(state: ClusterState, fx: Effects, ctx: OpContext, machines: readonly MachineId[]): void {
  checkMachines(machines);
  for (const m of machines) {
    if (!state.maintenance.scheduled(m)) throw new InvalidArgument(`machine ${describe(m)} is not part of a maintenance schedule`);
    if (state.maintenance.isDownMachine(m)) throw new InvalidArgument(`machine ${describe(m)} is not in DRAINING mode and cannot be brought down`);
  }
  state.maintenance.down = [...state.maintenance.down, ...machines];
  persist(state, fx);
  ctx.logger.info(`machines down for maintenance: ${machines.map(describe).join(', ')}`);
  for (const agent of [...state.agents.values()]) {
    if (state.maintenance.isDown(agent.info.hostname, agent.ip)) markGoneByOperator(state, fx, ctx, agent.id, "removed: its machine is DOWN for maintenance");
  }
}

/** STOP_MAINTENANCE: DOWN machines come UP and leave the schedule; their agents may register again. */
export function stopMaintenance(state: ClusterState, fx: Effects, ctx: OpContext, machines: readonly MachineId[]): void {
  checkMachines(machines);
  for (const m of machines) {
    if (!state.maintenance.isDownMachine(m)) throw new InvalidArgument(`machine ${describe(m)} is not in DOWN mode and cannot be brought up`);
  }
  const up = new Set(machines.map(machineKey));
  state.maintenance.down = state.maintenance.down.filter((m) => !up.has(machineKey(m)));
  state.maintenance.windows = state.maintenance.windows
    .map((w) => ({ ...w, machines: w.machines.filter((m) => !up.has(machineKey(m))) }))
    .filter((w) => w.machines.length > 0);
  for (const key of up) state.maintenance.answers.delete(key);
  persist(state, fx);
  ctx.logger.info(`machines up after maintenance: ${machines.map(describe).join(', ')}`);
}

/** Each machine named once (write-calls.ts has checked, at the edge, that each names a hostname or an ip). */
function checkMachines(machines: readonly MachineId[]): void {
  if (machines.length === 0) throw new InvalidArgument('machines is empty');
  const seen = new Set<string>();
  for (const m of machines) {
    if (seen.has(machineKey(m))) throw new InvalidArgument(`machine ${describe(m)} is listed twice`);
    seen.add(machineKey(m));
  }
}
