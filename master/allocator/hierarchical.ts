// Hierarchical allocation as Apache Mesos does it: roles are ordered by a
// role sorter, the frameworks of a role by that role's framework sorter.
// Each pass visits agents in a shuffled order and offers an agent's free
// resources to the first eligible framework; the sorters are updated at
// once, so the next agent goes to whoever is now furthest behind.
//
// Eligible: active, subscribed to the role, not suppressed for it, no
// unexpired refuse filter for this agent, and the resources it may take
// (unreserved plus those reserved for the role) hold at least one of the
// minimum allocatable bundles.
import { Resources, UNRESERVED, type ResourceEntry } from '../../common/resources.js';
import type { AllocationDecision, Allocator, AllocatorOptions, FrameworkSpec } from './allocator.js';
import type { Sorter, SorterFactory } from './sorter/sorter.js';

interface AgentState {
  total: Resources;
  free: Resources;
  /** framework -> role -> what it holds here; needed when the agent goes away. */
  readonly held: Map<string, Map<string, Resources>>;
}

interface FrameworkState {
  roles: string[];
  active: boolean;
  readonly suppressed: Set<string>;
  /**
   * agent -> what the framework refused there and until when (s). As in
   * Mesos, the filter only hides offers holding nothing but refused
   * resources: what a finishing task frees on that agent is offered again.
   */
  readonly filters: Map<string, { until: number; refused: Resources }>;
}

export const DEFAULT_MIN_ALLOCATABLE: readonly Resources[] = [Resources.parse('cpus:0.01'), Resources.parse('mem:32')];

/** A small seeded PRNG (mulberry32), the default source of agent shuffling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class HierarchicalAllocator implements Allocator {
  private readonly agents = new Map<string, AgentState>();
  private readonly frameworks = new Map<string, FrameworkState>();
  private readonly roleSorter: Sorter;
  private readonly frameworkSorters = new Map<string, Sorter>();
  /** Each bundle as [name, amount] pairs, any role: checked for every agent, so parsed once. */
  private readonly minAllocatable: readonly (readonly [string, number])[][];
  private readonly random: () => number;
  private total = Resources.EMPTY;

  constructor(
    readonly name: string,
    private readonly makeSorter: SorterFactory,
    options: AllocatorOptions = {},
  ) {
    this.random = options.random ?? seededRandom(42);
    this.minAllocatable = (options.minAllocatable ?? DEFAULT_MIN_ALLOCATABLE).map((min) =>
      min.list().flatMap((e) => (e.value.kind === 'scalar' ? [[e.name, e.value.value] as const] : [])),
    );
    this.roleSorter = makeSorter(this.random);
  }

  addAgent(agentId: string, total: Resources, used: ReadonlyMap<string, Resources> = new Map()): void {
    if (this.agents.has(agentId)) this.removeAgent(agentId);
    let free = total;
    const held = new Map<string, Map<string, Resources>>();
    for (const [frameworkId, resources] of used) {
      // A report larger than the agent (it should not happen) is clamped, not fatal.
      const taken = free.contains(resources) ? resources : resources.filter((e) => free.contains(Resources.fromEntries([e])));
      free = free.subtract(taken);
      // Unknown frameworks are credited when they re-subscribe with their `used`.
      const role = this.frameworks.get(frameworkId)?.roles[0];
      if (role === undefined || taken.isEmpty()) continue;
      held.set(frameworkId, new Map([[role, taken]]));
      this.track(frameworkId, role, taken, 1);
    }
    this.agents.set(agentId, { total, free, held });
    this.setTotal(this.total.add(scalarsOf(total)));
  }

  removeAgent(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    for (const [frameworkId, byRole] of agent.held) for (const [role, r] of byRole) this.track(frameworkId, role, r, -1);
    this.agents.delete(agentId);
    this.setTotal(this.total.subtract(scalarsOf(agent.total)));
    for (const fw of this.frameworks.values()) fw.filters.delete(agentId);
  }

  addFramework(frameworkId: string, spec: FrameworkSpec, used: ReadonlyMap<string, Resources> = new Map()): void {
    if (this.frameworks.has(frameworkId)) this.removeFramework(frameworkId);
    const roles = spec.roles.length > 0 ? [...spec.roles] : [UNRESERVED];
    this.frameworks.set(frameworkId, { roles, active: spec.active ?? true, suppressed: new Set(spec.suppressedRoles ?? []), filters: new Map() });
    for (const role of roles) {
      if (!this.roleSorter.has(role)) this.roleSorter.add(role);
      let sorter = this.frameworkSorters.get(role);
      if (!sorter) {
        sorter = this.makeSorter(this.random);
        sorter.setTotal(this.total);
        this.frameworkSorters.set(role, sorter);
      }
      sorter.add(frameworkId);
    }
    // Shares only: what it holds on agents is already out of their free pools.
    for (const [agentId, resources] of used) {
      const agent = this.agents.get(agentId);
      if (!agent) continue;
      agent.held.set(frameworkId, new Map([[roles[0]!, resources]]));
      this.track(frameworkId, roles[0]!, resources, 1);
    }
  }

  removeFramework(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    for (const agent of this.agents.values()) {
      const byRole = agent.held.get(frameworkId);
      if (!byRole) continue;
      for (const [role, r] of byRole) this.roleSorter.unallocated(role, r);
      agent.held.delete(frameworkId);
    }
    for (const role of fw.roles) {
      const sorter = this.frameworkSorters.get(role);
      sorter?.remove(frameworkId);
      if (sorter && sorter.sort().length === 0) {
        this.frameworkSorters.delete(role);
        this.roleSorter.remove(role);
      }
    }
    this.frameworks.delete(frameworkId);
  }

  setFrameworkActive(frameworkId: string, active: boolean): void {
    const fw = this.frameworks.get(frameworkId);
    if (fw) fw.active = active;
  }

  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds: number, now: number): void {
    const agent = this.agents.get(agentId);
    if (!agent || resources.isEmpty()) return;
    agent.free = agent.free.add(resources);
    const byRole = agent.held.get(frameworkId);
    // Take what comes back off the framework's holdings role by role; the
    // identity checks skip the arithmetic when a whole offer comes back.
    let left = resources;
    for (const [role, held] of byRole ?? []) {
      if (left.isEmpty()) break;
      const part = left.contains(held) ? held : held.contains(left) ? left : held.filter((e) => left.contains(Resources.fromEntries([e])));
      const rest = part === held ? Resources.EMPTY : held.subtract(part);
      if (rest.isEmpty()) byRole!.delete(role);
      else byRole!.set(role, rest);
      this.track(frameworkId, role, part, -1);
      left = part === left ? Resources.EMPTY : left.subtract(part);
    }
    if (byRole && byRole.size === 0) agent.held.delete(frameworkId);
    const fw = this.frameworks.get(frameworkId);
    if (fw && refuseSeconds > 0) {
      const prior = fw.filters.get(agentId);
      const refused = prior && prior.until > now ? prior.refused.add(resources) : resources;
      fw.filters.set(agentId, { until: Math.max(now + refuseSeconds, prior?.until ?? 0), refused });
    }
  }

  suppress(frameworkId: string, roles?: readonly string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (fw) for (const role of roles ?? fw.roles) fw.suppressed.add(role);
  }

  revive(frameworkId: string, roles?: readonly string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    for (const role of roles ?? fw.roles) fw.suppressed.delete(role);
    fw.filters.clear();
  }

  allocate(now: number): AllocationDecision[] {
    const decisions: AllocationDecision[] = [];
    for (const agentId of this.shuffledAgents()) {
      const agent = this.agents.get(agentId)!;
      if (!this.allocatable(agent.free)) continue;
      // A copy: the order changes as soon as this agent is allocated.
      for (const role of [...this.roleSorter.sort()]) {
        const offerable = offerableTo(agent.free, role);
        if (offerable !== agent.free && !this.allocatable(offerable)) continue;
        const frameworkId = this.firstEligible(role, agentId, offerable, now);
        if (!frameworkId) continue;
        agent.free = offerable === agent.free ? Resources.EMPTY : agent.free.subtract(offerable);
        const byRole = agent.held.get(frameworkId) ?? new Map<string, Resources>();
        byRole.set(role, (byRole.get(role) ?? Resources.EMPTY).add(offerable));
        agent.held.set(frameworkId, byRole);
        this.track(frameworkId, role, offerable, 1);
        decisions.push({ frameworkId, agentId, role, resources: offerable });
        // What is left can only be reserved for other roles: they come next.
        if (!this.allocatable(agent.free)) break;
      }
    }
    return decisions;
  }

  /** For /state and tests: a framework's share within its first role. */
  share(frameworkId: string): number {
    const role = this.frameworks.get(frameworkId)?.roles[0];
    return role ? (this.frameworkSorters.get(role)?.share(frameworkId) ?? 0) : 0;
  }

  private firstEligible(role: string, agentId: string, offerable: Resources, now: number): string | undefined {
    for (const frameworkId of this.frameworkSorters.get(role)?.sort() ?? []) {
      const fw = this.frameworks.get(frameworkId)!;
      if (!fw.active || fw.suppressed.has(role)) continue;
      const filter = fw.filters.get(agentId);
      if (filter) {
        if (filter.until <= now) fw.filters.delete(agentId);
        else if (filter.refused.contains(offerable)) continue;
      }
      return frameworkId;
    }
    return undefined;
  }

  private allocatable(resources: Resources): boolean {
    return !resources.isEmpty() && this.minAllocatable.some((min) => min.every(([name, value]) => resources.scalar(name) >= value));
  }

  private track(frameworkId: string, role: string, resources: Resources, sign: 1 | -1): void {
    const sorter = this.frameworkSorters.get(role);
    if (sign > 0) {
      this.roleSorter.allocated(role, resources);
      sorter?.allocated(frameworkId, resources);
    } else {
      this.roleSorter.unallocated(role, resources);
      sorter?.unallocated(frameworkId, resources);
    }
  }

  private setTotal(total: Resources): void {
    this.total = total;
    this.roleSorter.setTotal(total);
    for (const s of this.frameworkSorters.values()) s.setTotal(total);
  }

  private shuffledAgents(): string[] {
    const ids = [...this.agents.keys()];
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    return ids;
  }
}

/**
 * The part of an agent's resources that adds up across the cluster. Ranges
 * do not: two agents both offering ports 31000-32000 hold twice the ports,
 * but a union of ranges would count them once.
 */
function scalarsOf(resources: Resources): Resources {
  return resources.filter((e) => e.value.kind === 'scalar');
}

/**
 * What a framework of `role` may take: unreserved resources and those
 * reserved for the role. The same object when that is everything, the
 * common case, so the allocator can skip a filter and a subtraction.
 */
function offerableTo(free: Resources, role: string): Resources {
  const mine = (e: ResourceEntry): boolean => e.role === UNRESERVED || e.role === role;
  return free.list().every(mine) ? free : free.filter(mine);
}
