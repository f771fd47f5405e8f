// One call of a subscribed framework, as both gRPC ways of sending it apply
// it (a unary method, or one call of a Calls request): the leader check, the
// authenticated principal against the framework's, then Master.call, which
// validates the call and checks its stream id. Throws, changing nothing, on
// the first refusal.
import type { Call } from '../../proto/index.js';
import { traceLaunch, tracingLaunches } from '../../common/launch-trace.js';
import type { Master } from '../master.js';
import { checkCallPrincipal } from '../authentication.js';

/** `expected`: the one Call type the unary method takes (a Calls request takes any but SUBSCRIBE). */
export function applyFrameworkCall(leader: () => Master, call: Call, streamId: string | undefined, principal: string | null, expected?: Call['type']): void {
  const launched = call.type === 'ACCEPT' && tracingLaunches() ? launchedTaskIds(call) : [];
  for (const id of launched) traceLaunch(id, 'master: ACCEPT received');
  if (call.type === 'ACKNOWLEDGE') traceLaunch(call.acknowledge?.task_id?.value, 'master: ACKNOWLEDGE received');
  const master = leader();
  if (principal !== null) checkCallPrincipal(master.frameworks.get(call.framework_id?.value ?? '')?.info.principal, principal);
  master.call(call, streamId, expected);
  for (const id of launched) traceLaunch(id, 'master: ACCEPT handled');
}

/** The ids of the tasks an ACCEPT launches (for the launch trace). */
function launchedTaskIds(call: Call): string[] {
  return (call.accept?.operations ?? []).flatMap((op) => op.launch?.task_infos ?? []).map((t) => t.task_id?.value ?? '');
}
