// The cluster as the leading master knows it, and nothing else: frameworks,
// agents, tasks and offers with their indexes, plus the few sets the
// operations consult (tasks waiting for the registry, tasks whose framework
// already heard they were lost, frameworks that were removed). Operations
// (../operations/) change it; the driver (../master.ts) only reads it.
import { Resources } from '../../common/resources.js';
import { taskKey } from '../../common/ids.js';
import { OfferBook } from './offer-book.js';
import { Maintenance } from './maintenance.js';
import { TaskBook } from './task-book.js';
import type { AgentId, AgentRecord, FrameworkId, FrameworkRecord } from './records.js';

/** Removed frameworks kept for /state's completed_frameworks. */
const MAX_COMPLETED_FRAMEWORKS = 100;

export class ClusterState {
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly agents = new Map<string, AgentRecord>();
  readonly tasks = new TaskBook();
  readonly offers = new OfferBook();
  readonly maintenance = new Maintenance();
  /** Role weights and quotas as the operator set them (flags first, then the registry, then UPDATE_WEIGHTS / UPDATE_QUOTA). */
  readonly weights = new Map<string, number>();
  readonly quotas = new Map<string, { readonly guarantee: Resources; readonly limit: Resources | null }>();
  /** Tasks accepted but not yet sent to their agent (waiting for the registry), by framework/task key. */
  readonly launching = new Set<string>();
  /** Tasks killed because their framework was already told they were lost: their updates are acknowledged, not forwarded. */
  readonly silenced = new Set<string>();
  private readonly removedFrameworkIds = new Set<string>();
  private readonly completedFrameworks: FrameworkRecord[] = [];

  framework(id: string): FrameworkRecord | undefined {
    return this.frameworks.get(id);
  }

  agent(id: string): AgentRecord | undefined {
    return this.agents.get(id);
  }

  /** A framework that was torn down or timed out (here or under a predecessor). */
  rememberRemoved(fw: FrameworkRecord): void {
    this.removedFrameworkIds.add(fw.id);
    this.completedFrameworks.push(fw);
    if (this.completedFrameworks.length > MAX_COMPLETED_FRAMEWORKS) this.completedFrameworks.shift();
  }

  /** True for a framework that was torn down or timed out (it will acknowledge nothing). */
  wasRemoved(frameworkId: string): boolean {
    return !this.frameworks.has(frameworkId) && this.removedFrameworkIds.has(frameworkId);
  }

  completedFrameworkList(): readonly FrameworkRecord[] {
    return this.completedFrameworks;
  }

  isLaunching(frameworkId: string, taskId: string): boolean {
    return this.launching.has(taskKey(frameworkId, taskId));
  }

  /** Resources a framework holds on connected agents through its non-terminal tasks. */
  usedByFramework(frameworkId: FrameworkId | string): Map<string, Resources> {
    const used = new Map<string, Resources>();
    for (const t of this.tasks.ofFramework(frameworkId)) {
      if (t.recovered || !this.agents.get(t.agentId)?.connected) continue;
      used.set(t.agentId, (used.get(t.agentId) ?? Resources.EMPTY).add(t.resources));
    }
    return used;
  }

  /** An agent offers its resources: connected, and neither draining nor deactivated. */
  offersFrom(agent: AgentRecord): boolean {
    return agent.connected && agent.draining !== true && agent.deactivated !== true;
  }

  /** What is on the agent and held by no task (offered resources count as unused: rescind the offers first). */
  unusedOn(agent: AgentRecord): Resources {
    let used = Resources.EMPTY;
    for (const held of this.usedOnAgent(agent.id).values()) used = used.add(held);
    return agent.total.subtract(used);
  }

  /** Resources each framework holds on an agent through its non-terminal tasks (a terminal task's are recovered at once). */
  usedOnAgent(agentId: AgentId | string): Map<string, Resources> {
    const used = new Map<string, Resources>();
    for (const t of this.tasks.ofAgent(agentId)) {
      if (t.recovered) continue;
      used.set(t.frameworkId, (used.get(t.frameworkId) ?? Resources.EMPTY).add(t.resources));
    }
    return used;
  }
}
