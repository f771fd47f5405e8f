// Handlers for the scheduler calls of a subscribed framework (all but
// SUBSCRIBE). The call has passed validateCall(); each handler checks what
// depends on state, then applies.
import type { Call, TaskStatusIn } from '../proto/index.js';
import { FailedPrecondition, NotFound } from '../common/errors.js';
import { isTerminal } from '../common/task-state.js';
import { Resources } from '../common/resources.js';
import { planAccept } from './launch-plan.js';
import { applyReservations } from './reservations.js';
import type { Master } from './master.js';
import type { FrameworkRecord } from './records.js';
import type { TaskRecord } from './task-book.js';
import { taskKeyOf } from './registry/registry.js';
import { masterStatus, reconciliationStatus } from './status.js';
import { frameworkRoles } from './validation.js';

const DEFAULT_REFUSE_SECONDS = 5;
/** Mesos caps refuse_seconds at one year. */
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

export function handleSchedulerCall(master: Master, fw: FrameworkRecord, call: Call): void {
  switch (call.type) {
    case 'ACCEPT':
      return accept(master, fw, call.accept!);
    case 'DECLINE':
      return decline(master, fw, call.decline!);
    case 'REVIVE':
      master.allocator.revive(fw.id, nonEmpty(call.revive?.roles));
      return master.scheduleAllocation();
    case 'SUPPRESS':
      return master.allocator.suppress(fw.id, nonEmpty(call.suppress?.roles));
    case 'KILL':
      return kill(master, fw, call.kill!);
    case 'ACKNOWLEDGE':
      return acknowledge(master, fw, call.acknowledge!);
    case 'RECONCILE':
      return reconcile(master, fw, call.reconcile!);
    case 'TEARDOWN':
      return master.removeFramework(fw, 'TEARDOWN from the scheduler');
    case 'REQUEST':
      return; // A hint Mesos's allocator ignores too.
    case 'UPDATE_FRAMEWORK':
      return updateFramework(master, fw, call.update_framework!);
    case 'MESSAGE':
    case 'SHUTDOWN':
      return executorCall(master, fw, call);
    default:
      throw new FailedPrecondition(`Call.type ${call.type} is not supported by mesos-ts`);
  }
}

const nonEmpty = (roles: string[] | undefined): string[] | undefined => (roles && roles.length > 0 ? roles : undefined);

function refuseSeconds(filters: { refuse_seconds: number } | null): number {
  return Math.min(filters ? filters.refuse_seconds : DEFAULT_REFUSE_SECONDS, MAX_REFUSE_SECONDS);
}

function accept(master: Master, fw: FrameworkRecord, acceptCall: NonNullable<Call['accept']>): void {
  const now = master.now();
  const activeTaskIds = new Set(master.tasks.ofFramework(fw.id).filter((t) => !isTerminal(t.state)).map((t) => t.taskId));
  const plan = planAccept(acceptCall, {
    frameworkId: fw.id, partitionAware: fw.partitionAware, offers: master.offers.view(), activeTaskIds,
    dynamicReservations: (agentId) => master.agents.get(agentId)?.dynamicReservations ?? Resources.EMPTY,
    reservationsSupported: typeof master.allocator.updateAllocation === 'function',
  });
  const offers = plan.usedOfferIds.map((id) => master.offers.take(id)!);
  for (const why of plan.dropped) master.log(`framework ${fw.id}: ${why}; its resources go back unchanged`);
  if (plan.reservations.length > 0) applyReservations(master, fw.id, plan.agentId!, plan.reservations);
  for (const r of plan.rejected) {
    const taskId = r.task.task_id?.value || '(no task id)';
    master.log(`framework ${fw.id}: task ${taskId} refused: ${r.message}`);
    master.forwardStatus(fw.id, masterStatus({ taskId, state: r.state, now, agentId: r.task.agent_id?.value, reason: r.reason, message: r.message }));
  }
  const records: TaskRecord[] = plan.launches.map(({ task, resources }) => ({
    frameworkId: fw.id, agentId: plan.agentId!, taskId: task.task_id!.value, info: task, resources, state: 'TASK_STAGING' as const,
    status: null, statusUuid: null, recovered: false, createdAt: now,
  }));
  for (const record of records) {
    master.tasks.add(record);
    master.launching.add(taskKeyOf(fw.id, record.taskId));
  }
  if (records.length > 0) {
    // The registry indexes a task before its agent hears of it, so a successor can report on it if the agent never returns.
    const indexed = master.registry.addTasks(plan.agentId!, records.map((r) => ({
      framework_id: fw.id, task_id: r.taskId, name: r.info.name ?? '', resources: r.resources.toString(),
    })));
    indexed.then(() => records.forEach((r) => sendLaunch(master, r)), () => {}); // A failed write stops the master.
  }
  // What was offered but not used goes back, filtered for refuse_seconds.
  if (offers.length > 0) {
    const refuse = refuseSeconds(acceptCall.filters);
    const agentId = offers[0]!.agentId;
    // A call that only failed (tasks refused, operations dropped) sets no filter: the framework will retry.
    const refuseNow = plan.launches.length > 0 || plan.reservations.length > 0 || (plan.rejected.length === 0 && plan.dropped.length === 0);
    master.allocator.recoverResources(fw.id, agentId, plan.unused, refuseNow ? refuse : 0, now);
    master.scheduleAllocation();
  }
}

/** Sends a task to its agent, unless it was killed or its agent left while the registry was written. */
function sendLaunch(master: Master, record: TaskRecord): void {
  master.launching.delete(taskKeyOf(record.frameworkId, record.taskId));
  if (!master.acting || master.tasks.get(record.frameworkId, record.taskId) !== record || record.state !== 'TASK_STAGING') return;
  const fw = master.frameworks.get(record.frameworkId);
  const agent = master.agents.get(record.agentId);
  if (fw && agent?.conn) {
    agent.conn.send({ run_task: { framework: fw.info, task: record.info } });
  } else {
    const why = fw ? `agent ${record.agentId} is not connected` : `framework ${record.frameworkId} is gone`;
    master.masterUpdate(record, fw?.partitionAware ? 'TASK_DROPPED' : 'TASK_LOST', 'REASON_AGENT_DISCONNECTED', why);
  }
  master.changed();
}

function decline(master: Master, fw: FrameworkRecord, declineCall: NonNullable<Call['decline']>): void {
  const refuse = refuseSeconds(declineCall.filters);
  for (const { value: id } of declineCall.offer_ids) {
    const offer = master.offers.get(id);
    if (!offer || offer.frameworkId !== fw.id) {
      master.log(`framework ${fw.id} declined unknown offer ${id}; ignored`);
      continue;
    }
    master.offers.take(id);
    master.allocator.recoverResources(fw.id, offer.agentId, offer.resources, refuse, master.now());
  }
  master.scheduleAllocation();
}

function kill(master: Master, fw: FrameworkRecord, killCall: NonNullable<Call['kill']>): void {
  const taskId = killCall.task_id!.value;
  const task = master.tasks.get(fw.id, taskId);
  if (!task || isTerminal(task.state)) {
    // Unknown (or already ended) tasks: tell the framework what we know, as Mesos does.
    const status: TaskStatusIn = task?.status
      ? reconciliationStatus(task.status, master.now())
      : masterStatus({
          taskId, state: fw.partitionAware ? 'TASK_UNKNOWN' : 'TASK_LOST', now: master.now(), agentId: killCall.agent_id?.value,
          reason: 'REASON_RECONCILIATION', message: `kill: task ${taskId} is unknown to the master`,
        });
    return master.forwardStatus(fw.id, status);
  }
  if (master.launching.has(taskKeyOf(fw.id, taskId))) {
    // Not yet sent to its agent: it never will be.
    return master.masterUpdate(task, 'TASK_KILLED', 'REASON_TASK_KILLED_DURING_LAUNCH', `task ${taskId} was killed before it reached its agent`);
  }
  const agent = master.agents.get(task.agentId);
  const message = { framework_id: { value: fw.id }, task_id: { value: taskId }, ...(killCall.kill_policy ? { kill_policy: killCall.kill_policy } : {}) };
  if (agent?.conn) agent.conn.send({ kill_task: message });
  else agent?.pendingKills.set(taskId, { frameworkId: fw.id, taskId });
}

function acknowledge(master: Master, fw: FrameworkRecord, ack: NonNullable<Call['acknowledge']>): void {
  const agentId = ack.agent_id!.value;
  const taskId = ack.task_id!.value;
  if (!master.agents.has(agentId)) throw new NotFound(`acknowledge: agent ${agentId} is unknown`);
  master.acknowledgeToAgent(agentId, fw.id, taskId, ack.uuid);
  const task = master.tasks.get(fw.id, taskId);
  // The final update of a task is acknowledged: the task leaves the active set.
  if (task && isTerminal(task.state) && task.statusUuid?.equals(ack.uuid)) master.tasks.complete(task);
}

/**
 * Explicit reconciliation answers for each named task; implicit (no tasks)
 * answers for every task the master knows of this framework. Answers carry
 * REASON_RECONCILIATION and no uuid.
 */
function reconcile(master: Master, fw: FrameworkRecord, rec: NonNullable<Call['reconcile']>): void {
  const now = master.now();
  if (rec.tasks.length === 0) {
    for (const task of master.tasks.ofFramework(fw.id)) {
      const status = task.status ?? masterStatus({ taskId: task.taskId, state: task.state, now, agentId: task.agentId });
      master.forwardStatus(fw.id, reconciliationStatus(status, now));
    }
    return;
  }
  for (const { task_id, agent_id } of rec.tasks) {
    const taskId = task_id!.value;
    const task = master.tasks.get(fw.id, taskId) ?? master.tasks.completedTasks().find((t) => t.frameworkId === fw.id && t.taskId === taskId);
    if (task) {
      const status = task.status ?? masterStatus({ taskId, state: task.state, now, agentId: task.agentId });
      master.forwardStatus(fw.id, reconciliationStatus(status, now));
      continue;
    }
    const agentId = agent_id?.value;
    const answer = unknownTaskAnswer(master, fw, taskId, agentId);
    if (!answer) continue; // On an agent that has not re-registered since this master took over: no answer yet, as in Mesos.
    master.forwardStatus(fw.id, masterStatus({ taskId, now, agentId, reason: 'REASON_RECONCILIATION', ...answer }));
  }
}

/** What the master can say of a task it does not know, given the agent the framework names. */
function unknownTaskAnswer(master: Master, fw: FrameworkRecord, taskId: string, agentId: string | undefined) {
  const pa = fw.partitionAware;
  const recoveredAgents = [...master.agents.values()].filter((a) => a.recovered);
  if (agentId === undefined) {
    const pending = recoveredAgents.some((a) => master.registry.agents.get(a.id)?.tasks.has(taskKeyOf(fw.id, taskId)));
    return pending ? null : { state: pa ? ('TASK_UNKNOWN' as const) : ('TASK_LOST' as const), message: `task ${taskId} is unknown to the master` };
  }
  const agent = master.agents.get(agentId);
  if (agent?.recovered) return null;
  if (master.registry.agents.get(agentId)?.gone_time != null) {
    return { state: pa ? ('TASK_GONE' as const) : ('TASK_LOST' as const), message: `agent ${agentId} is gone` };
  }
  if (agent && agent.unreachableSince !== null) {
    return { state: pa ? ('TASK_UNREACHABLE' as const) : ('TASK_LOST' as const), message: `agent ${agentId} is unreachable` };
  }
  if (agent?.conn) return { state: pa ? ('TASK_GONE' as const) : ('TASK_LOST' as const), message: `task ${taskId} is not on agent ${agentId}` };
  return { state: pa ? ('TASK_UNKNOWN' as const) : ('TASK_LOST' as const), message: `task ${taskId} is unknown to the master` };
}

function updateFramework(master: Master, fw: FrameworkRecord, update: NonNullable<Call['update_framework']>): void {
  const info = update.framework_info!;
  if (info.id?.value !== fw.id) throw new FailedPrecondition(`update_framework: framework_info.id must be ${fw.id}`);
  const roles = frameworkRoles(info); // Throws, changing nothing, when the roles are not valid.
  const rolesChanged = roles.length !== fw.roles.length || roles.some((r, i) => r !== fw.roles[i]);
  fw.info = { ...info, id: { value: fw.id } };
  if (rolesChanged || update.suppressed_roles.length > 0) {
    master.log(`framework ${fw.id} now has roles ${roles.join(',')}${update.suppressed_roles.length > 0 ? ` (suppressed: ${update.suppressed_roles.join(',')})` : ''}`);
    master.changeRoles(fw, roles, update.suppressed_roles);
  }
  fw.partitionAware = info.capabilities.some((c) => c.type === 'PARTITION_AWARE');
  void master.registry.putFramework(fw.id, fw.info, master.now());
  master.log(`framework ${fw.id} updated its FrameworkInfo`);
}

/**
 * MESSAGE and SHUTDOWN address executors. mesos-ts runs each task as a
 * plain container; as with Mesos's command executor, a task's executor id
 * is its task id. SHUTDOWN of that executor kills the task; MESSAGE has no
 * executor process to deliver to, and says so rather than drop the data.
 */
function executorCall(master: Master, fw: FrameworkRecord, call: Call): void {
  const target = call.type === 'MESSAGE' ? call.message! : call.shutdown!;
  const agentId = target.agent_id!.value;
  const executorId = target.executor_id!.value;
  if (!master.agents.has(agentId)) throw new NotFound(`${call.type.toLowerCase()}: agent ${agentId} is unknown`);
  const task = master.tasks.get(fw.id, executorId);
  if (!task || task.agentId !== agentId || isTerminal(task.state)) {
    throw new NotFound(`${call.type.toLowerCase()}: no executor '${executorId}' of framework ${fw.id} runs on agent ${agentId}`);
  }
  if (call.type === 'SHUTDOWN') return kill(master, fw, { task_id: { value: executorId }, agent_id: { value: agentId }, kill_policy: null });
  throw new FailedPrecondition(`message: task '${executorId}' runs without an executor process; framework messages cannot be delivered to it`);
}
