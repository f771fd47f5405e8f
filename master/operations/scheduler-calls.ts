// A subscribed framework's call (all but SUBSCRIBE), already checked by
// validateCall(), to its operation: the one place where a decoded Call
// becomes an operation's input. Each operation checks what depends on
// state, then applies.
import type { Call } from '../../proto/index.js';
import { FailedPrecondition } from '../../common/errors.js';
import type { ClusterState } from '../state/cluster.js';
import type { FrameworkRecord } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';
import { removeFramework, updateFramework } from './frameworks.js';
import { launchTasks, refuseSeconds } from './launch.js';
import { declineOffers } from './offers.js';
import { answerInverseOffers } from './maintenance.js';
import { acknowledgeUpdate, executorCall, killTask, reconcileTasks } from './tasks.js';

export function schedulerCall(state: ClusterState, fx: Effects, ctx: OpContext, fw: FrameworkRecord, call: Call): void {
  switch (call.type) {
    case 'ACCEPT':
      return launchTasks(state, fx, ctx, fw, call.accept!);
    case 'DECLINE':
      return declineOffers(state, fx, ctx, fw, call.decline!.offer_ids.map((o) => o.value), refuseSeconds(call.decline!.filters));
    case 'REVIVE':
      fx.allocator({ call: 'revive', frameworkId: fw.id, ...rolesOf(call.revive?.roles) });
      return fx.allocate();
    case 'SUPPRESS':
      return fx.allocator({ call: 'suppress', frameworkId: fw.id, ...rolesOf(call.suppress?.roles) });
    case 'KILL': {
      const kill = call.kill!;
      return killTask(state, fx, ctx, fw, {
        taskId: kill.task_id!.value, ...(kill.agent_id ? { agentId: kill.agent_id.value } : {}), ...(kill.kill_policy ? { killPolicy: kill.kill_policy } : {}),
      });
    }
    case 'ACKNOWLEDGE': {
      const ack = call.acknowledge!;
      return acknowledgeUpdate(state, fx, fw, { agentId: ack.agent_id!.value, taskId: ack.task_id!.value, uuid: ack.uuid });
    }
    case 'RECONCILE':
      return reconcileTasks(state, fx, ctx, fw, call.reconcile!.tasks.map((t) => ({ taskId: t.task_id!.value, ...(t.agent_id ? { agentId: t.agent_id.value } : {}) })));
    case 'TEARDOWN':
      return removeFramework(state, fx, ctx, fw, 'TEARDOWN from the scheduler');
    case 'REQUEST':
      return; // A hint Mesos's allocator ignores too.
    case 'ACCEPT_INVERSE_OFFERS':
    case 'DECLINE_INVERSE_OFFERS': {
      const answer = call.type === 'ACCEPT_INVERSE_OFFERS' ? call.accept_inverse_offers! : call.decline_inverse_offers!;
      return answerInverseOffers(state, fx, ctx, fw, answer.inverse_offer_ids.map((o) => o.value), call.type === 'ACCEPT_INVERSE_OFFERS');
    }
    case 'UPDATE_FRAMEWORK':
      return updateFramework(state, fx, ctx, fw, { info: call.update_framework!.framework_info!, suppressedRoles: call.update_framework!.suppressed_roles });
    case 'MESSAGE':
    case 'SHUTDOWN': {
      const target = call.type === 'MESSAGE' ? call.message! : call.shutdown!;
      return executorCall(state, fx, ctx, fw, { type: call.type, agentId: target.agent_id!.value, executorId: target.executor_id!.value });
    }
    default:
      throw new FailedPrecondition(`Call.type ${call.type} is not supported by mesos-ts`);
  }
}

/** No roles, or an empty list, means every role of the framework. */
const rolesOf = (roles: string[] | undefined): { roles?: readonly string[] } => (roles && roles.length > 0 ? { roles } : {});
