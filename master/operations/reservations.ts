// Dynamic reservations (RESERVE / UNRESERVE operations of an ACCEPT), applied
// by the master after launch-plan.ts has checked them: the allocator moves
// the framework's holding and the agent's total, the master's agent record
// follows, and the reserved resources are then offered to that role only.
//
// Kept in the registry (with the agent's entry): an agent that re-registers,
// with this master or with a new leader, gets its dynamic reservations back.
import { Resources } from '../../common/resources.js';
import type { ReservationChange } from '../launch-plan.js';
import type { ClusterState } from '../state/cluster.js';
import type { AgentId, AgentRecord, FrameworkId } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';

/** RESERVE / UNRESERVE (checked by the launch plan): the agent's total and its reservations change, the registry keeps them. */
export function applyReservations(
  state: ClusterState, fx: Effects, ctx: OpContext, frameworkId: FrameworkId, agentId: AgentId, changes: readonly ReservationChange[],
): void {
  const agent = state.agent(agentId);
  for (const change of changes) {
    fx.allocator({ call: 'updateAllocation', frameworkId, agentId, from: change.from, to: change.to });
    if (!agent) continue;
    agent.total = agent.total.subtract(change.from).add(change.to);
    const reserved = agent.dynamicReservations ?? Resources.EMPTY;
    agent.dynamicReservations = change.type === 'RESERVE' ? reserved.add(change.to) : reserved.subtract(change.from);
    fx.write({ op: 'setReservations', agentId, reservations: agent.dynamicReservations.toProto() });
    const verb = change.type === 'RESERVE' ? 'reserved' : 'unreserved';
    ctx.logger.info({ framework_id: frameworkId, agent_id: agentId }, `framework ${frameworkId} ${verb} ${(change.type === 'RESERVE' ? change.to : change.from).toString()} on agent ${agentId}`);
  }
}

/**
 * An agent (re-)registering brings its --resources total: its dynamic
 * reservations are made again on top, as far as the total still holds them
 * (an agent restarted with less loses those it cannot hold, with a log line).
 */
export function withDynamicReservations(fx: Effects, ctx: OpContext, agent: AgentRecord, total: Resources): Resources {
  const reserved = agent.dynamicReservations;
  if (!reserved || reserved.isEmpty()) return total;
  let out = total;
  let kept = Resources.EMPTY;
  for (const entry of reserved.list()) {
    const to = Resources.fromEntries([entry]);
    const from = to.withRole('*');
    if (out.contains(from)) {
      out = out.subtract(from).add(to);
      kept = kept.add(to);
    } else {
      ctx.logger.warn({ agent_id: agent.id }, `agent ${agent.id} came back without room for its reservation ${to.toString()}; the reservation is dropped`);
    }
  }
  if (!kept.equals(reserved)) fx.write({ op: 'setReservations', agentId: agent.id, reservations: kept.toProto() });
  agent.dynamicReservations = kept;
  return out;
}
