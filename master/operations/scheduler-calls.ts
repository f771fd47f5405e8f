// A subscribed framework's call (all but SUBSCRIBE), already checked by
// validateCall(), to its operation. Each operation checks what depends on
// state, then applies.
import type { Call } from '../../proto/index.js';
import { FailedPrecondition } from '../../common/errors.js';
import type { ClusterState } from '../state/cluster.js';
import type { FrameworkRecord } from '../state/records.js';
import type { Effects, OpContext } from './effects.js';
import { removeFramework, updateFramework } from './frameworks.js';
import { launchTasks, refuseSeconds } from './launch.js';
import { declineOffers } from './offers.js';
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
    case 'KILL':
      return killTask(state, fx, ctx, fw, call.kill!);
    case 'ACKNOWLEDGE':
      return acknowledgeUpdate(state, fx, fw, call.acknowledge!);
    case 'RECONCILE':
      return reconcileTasks(state, fx, ctx, fw, call.reconcile!);
    case 'TEARDOWN':
      return removeFramework(state, fx, ctx, fw, 'TEARDOWN from the scheduler');
    case 'REQUEST':
      return; // A hint Mesos's allocator ignores too.
    case 'UPDATE_FRAMEWORK':
      return updateFramework(state, fx, ctx, fw, call.update_framework!);
    case 'MESSAGE':
    case 'SHUTDOWN':
      return executorCall(state, fx, ctx, fw, call);
    default:
      throw new FailedPrecondition(`Call.type ${call.type} is not supported by mesos-ts`);
  }
}

/** No roles, or an empty list, means every role of the framework. */
const rolesOf = (roles: string[] | undefined): { roles?: readonly string[] } => (roles && roles.length > 0 ? { roles } : {});
