// Hierarchical allocation as Apache Mesos does it: roles are ordered by a
// role sorter (weighted), the frameworks of a role by that role's framework
// sorter. A pass visits agents in the policy's order and offers an agent's
// free resources to the first eligible framework of the first role; the
// sorters are updated at once, so the next agent goes to whoever is now
// furthest behind.
//
// Two stages, as in Mesos: first roles below their quota guarantee get what
// they lack; then every role gets its fair share, minus what other roles
// still need for their guarantees (headroom) and never above its limit.
//
// Eligible: active, subscribed to the role, not suppressed for it, no
// unexpired refuse filter for this agent and role covering the offer, under
// the policy's per-pass offer cap, and the resources it may take
// (unreserved plus those reserved for the role) hold at least one of the
// minimum allocatable bundles.
//
// A pass may be bounded in time (outOfTime, the master's
// --allocation_pass_budget): a round of visits over all agents is then
// spread over several passes. The round keeps its agent order; the next
// pass goes on with the agents not yet visited, and only a finished round
// draws a new order. The sorters are never reset between passes, so the
// agent after the cut goes to whoever is furthest behind at that moment,
// exactly as if the pass had not been cut (a framework that subscribed
// meanwhile, with no share yet, is first).
import { InvalidArgument } from '../../common/errors.js';
import { Resources, UNRESERVED, type ResourceEntry } from '../../common/resources.js';
import type { AllocationDecision, Allocator, AllocatorOptions, FrameworkSpec, RoleQuota, RoleSummary } from './allocator.js';
import { shuffled, type AgentOrder, type AgentView } from './agent-order.js';
import { RefuseFilters } from './filters.js';
import { capUnreserved, guaranteeOffer, Headroom, quantitiesOf, QuotaBook, type Quantities } from './quota.js';
import { allocatedByRole, summarizeRoles } from './role-summary.js';
import { seededRandom } from './seeded-random.js';
import type { Sorter, SorterFactory } from './sorter/sorter.js';

export { seededRandom };

/** What tells one built-in policy from another. */
export interface Policy {
  /** Orders each level: roles, and the frameworks of each role. */
  readonly sorter: SorterFactory;
  /** The order agents are visited in each pass (default: a fresh shuffle). */
  readonly agentOrder?: AgentOrder;
  /** At most this many offers per framework and role per pass (default: no cap). */
  readonly offersPerFramework?: number;
}

interface AgentState extends AgentView {
  total: Resources;
  free: Resources;
  /** framework -> role -> what it holds here; needed when the agent goes away. */
  readonly held: Map<string, Map<string, Resources>>;
}

interface FrameworkState {
  roles: string[];
  active: boolean;
  readonly suppressed: Set<string>;
  readonly filters: RefuseFilters;
}

interface Pass {
  readonly now: number;
  readonly decisions: AllocationDecision[];
  /** Offers per framework and role this pass, kept only under an offer cap. */
  readonly offers: Map<string, Map<string, number>> | null;
  headroom: Headroom | null;
  /** (framework, role) pairs that reached the cap; the pass ends when all have. */
  capped: number;
  readonly pairs: number;
}

/** A round of visits over all agents: stage 1 (guarantees) then stage 2 (fair share), each in its order. */
interface Round {
  stage: 'guarantee' | 'fair';
  order: string[];
  /** The next agent of `order` to visit. */
  next: number;
}

const NEVER_OUT_OF_TIME = (): boolean => false;

export const DEFAULT_MIN_ALLOCATABLE: readonly Resources[] = [Resources.parse('cpus:0.01'), Resources.parse('mem:32')];

export class HierarchicalAllocator implements Allocator {
  private readonly agents = new Map<string, AgentState>();
  private readonly frameworks = new Map<string, FrameworkState>();
  private readonly roleSorter: Sorter;
  private readonly frameworkSorters = new Map<string, Sorter>();
  private readonly makeSorter: SorterFactory;
  private readonly agentOrder: AgentOrder;
  private readonly offersPerFramework: number;
  /** Each bundle as [name, amount] pairs, any role: checked for every agent, so parsed once. */
  private readonly minAllocatable: readonly (readonly [string, number])[][];
  private readonly random: () => number;
  private readonly weights: Map<string, number>;
  private readonly quota = new QuotaBook();
  private total = Resources.EMPTY;
  /** The round a pass stopped in for time; null when the last round finished. */
  private round: Round | null = null;

  /** `policy`: a sorter factory alone means Mesos's agent order and no offer cap. */
  constructor(
    readonly name: string,
    policy: SorterFactory | Policy,
    options: AllocatorOptions = {},
  ) {
    const p: Policy = typeof policy === 'function' ? { sorter: policy } : policy;
    this.makeSorter = p.sorter;
    this.agentOrder = p.agentOrder ?? shuffled;
    this.offersPerFramework = p.offersPerFramework ?? Infinity;
    this.random = options.random ?? seededRandom(42);
    this.minAllocatable = (options.minAllocatable ?? DEFAULT_MIN_ALLOCATABLE).map((min) =>
      min.list().flatMap((e) => (e.value.kind === 'scalar' ? [[e.name, e.value.value] as const] : [])),
    );
    this.weights = new Map(options.weights ?? []);
    for (const [role, quota] of options.quotas ?? []) this.quota.set(role, quota, Resources.EMPTY);
    this.roleSorter = this.makeSorter(this.random);
  }

  addAgent(agentId: string, total: Resources, used: ReadonlyMap<string, Resources> = new Map()): void {
    if (this.agents.has(agentId)) this.removeAgent(agentId);
    let free = total;
    const held = new Map<string, Map<string, Resources>>();
    const agent: AgentState = { id: agentId, total, free, held };
    this.agents.set(agentId, agent);
    this.quota.reserve(total, 1);
    this.setTotal(this.total.add(scalarsOf(total)));
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
    agent.free = free;
  }

  removeAgent(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (!agent) return;
    for (const [frameworkId, byRole] of agent.held) for (const [role, r] of byRole) this.track(frameworkId, role, r, -1);
    this.agents.delete(agentId);
    this.quota.reserve(agent.total, -1);
    this.setTotal(this.total.subtract(scalarsOf(agent.total)));
    for (const fw of this.frameworks.values()) fw.filters.forgetAgent(agentId);
  }

  addFramework(frameworkId: string, spec: FrameworkSpec, used: ReadonlyMap<string, Resources> = new Map()): void {
    if (this.frameworks.has(frameworkId)) this.removeFramework(frameworkId);
    const roles = spec.roles.length > 0 ? [...spec.roles] : [UNRESERVED];
    this.frameworks.set(frameworkId, { roles, active: spec.active ?? true, suppressed: new Set(spec.suppressedRoles ?? []), filters: new RefuseFilters() });
    for (const role of roles) {
      if (!this.roleSorter.has(role)) this.roleSorter.add(role, this.weights.get(role) ?? 1);
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
      for (const [role, r] of byRole) this.track(frameworkId, role, r, -1);
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
    const parts: [string, Resources][] = [];
    let left = resources;
    for (const [role, held] of byRole ?? []) {
      if (left.isEmpty()) break;
      const part = left.contains(held) ? held : held.contains(left) ? left : held.filter((e) => left.contains(Resources.fromEntries([e])));
      if (part.isEmpty()) continue;
      const rest = part === held ? Resources.EMPTY : held.subtract(part);
      if (rest.isEmpty()) byRole!.delete(role);
      else byRole!.set(role, rest);
      this.track(frameworkId, role, part, -1);
      parts.push([role, part]);
      left = part === left ? Resources.EMPTY : left.subtract(part);
    }
    if (byRole && byRole.size === 0) agent.held.delete(frameworkId);
    const fw = this.frameworks.get(frameworkId);
    if (!fw || refuseSeconds <= 0) return;
    const refused: [string, Resources][] = parts.length > 0 ? parts : fw.roles.map((role) => [role, resources]);
    for (const [role, part] of refused) fw.filters.add(agentId, role, part, now + refuseSeconds, now);
  }

  suppress(frameworkId: string, roles?: readonly string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (fw) for (const role of roles ?? fw.roles) fw.suppressed.add(role);
  }

  revive(frameworkId: string, roles?: readonly string[]): void {
    const fw = this.frameworks.get(frameworkId);
    if (!fw) return;
    for (const role of roles ?? fw.roles) fw.suppressed.delete(role);
    fw.filters.clear(roles);
  }

  allocate(now: number, outOfTime: (decided: number) => boolean = NEVER_OUT_OF_TIME): AllocationDecision[] {
    const capped = Number.isFinite(this.offersPerFramework);
    let pairs = 0;
    if (capped) for (const fw of this.frameworks.values()) pairs += fw.roles.length;
    const pass: Pass = { now, decisions: [], offers: capped ? new Map() : null, headroom: null, capped: 0, pairs };
    if (this.agents.size === 0 || this.frameworks.size === 0) {
      this.round = null;
      return pass.decisions;
    }
    if (this.quota.hasGuarantees) pass.headroom = Headroom.of(this.quota, [...this.agents.values()].map((a) => a.free));
    let round = this.round ?? this.newRound(pass.headroom?.needed ? 'guarantee' : 'fair');
    this.round = null;
    // At least one agent per pass, so a budget too small for anything still makes progress.
    for (let visited = 0; ; visited++) {
      if (round.stage === 'guarantee' && (round.next >= round.order.length || !pass.headroom?.needed)) {
        // As Mesos, a new order for stage 2, so stage 1's favourites are not also first there.
        round = this.newRound('fair');
      }
      if (round.next >= round.order.length) return pass.decisions;
      if (visited > 0 && outOfTime(pass.decisions.length)) {
        this.round = round;
        return pass.decisions;
      }
      const agent = this.agents.get(round.order[round.next++]!);
      if (!agent) continue; // Removed since the round began.
      if (round.stage === 'guarantee') {
        if (this.guaranteeStage(agent, pass)) round.next = round.order.length;
      } else if (this.fairStage(agent, pass)) {
        return pass.decisions;
      }
    }
  }

  get carrying(): boolean {
    return this.round !== null;
  }

  private newRound(stage: Round['stage']): Round {
    return { stage, order: this.agentOrder([...this.agents.values()], this.random), next: 0 };
  }

  updateAllocation(frameworkId: string, agentId: string, from: Resources, to: Resources): void {
    const agent = this.agents.get(agentId);
    const byRole = agent?.held.get(frameworkId);
    const role = [...(byRole ?? [])].find(([, held]) => held.contains(from))?.[0];
    if (!agent || !byRole || role === undefined) {
      throw new InvalidArgument(`framework ${frameworkId} does not hold ${from.toString()} on agent ${agentId}`);
    }
    byRole.set(role, byRole.get(role)!.subtract(from).add(to));
    this.track(frameworkId, role, from, -1);
    this.track(frameworkId, role, to, 1);
    agent.total = agent.total.subtract(from).add(to);
    this.quota.reserve(from, -1);
    this.quota.reserve(to, 1);
    this.setTotal(this.total.subtract(scalarsOf(from)).add(scalarsOf(to)));
  }

  updateWeights(weights: ReadonlyMap<string, number>): void {
    for (const [role, weight] of weights) {
      this.weights.set(role, weight);
      if (this.roleSorter.has(role)) this.roleSorter.updateWeight(role, weight);
    }
  }

  setQuota(role: string, quota: RoleQuota | null): void {
    const holdings = [...this.agents.values()].flatMap((a) => [...a.held.values()]);
    this.quota.set(role, quota, allocatedByRole(holdings).get(role) ?? Resources.EMPTY);
  }

  roles(): RoleSummary[] {
    return summarizeRoles({
      roles: [...this.frameworkSorters.keys(), ...this.weights.keys()],
      weights: this.weights,
      quota: this.quota,
      total: this.total,
      share: (role) => (this.roleSorter.has(role) ? this.roleSorter.share(role) : 0),
      frameworks: () => [...this.frameworks].map(([id, fw]) => [id, fw.roles] as const),
      holdings: () => [...this.agents.values()].flatMap((a) => [...a.held.values()]),
    });
  }

  /** For /state and tests: a framework's share within its first role. */
  share(frameworkId: string): number {
    const role = this.frameworks.get(frameworkId)?.roles[0];
    return role ? (this.frameworkSorters.get(role)?.share(frameworkId) ?? 0) : 0;
  }

  // ---- the two stages ---------------------------------------------------

  /** Stage 1 on one agent: roles below their guarantee, before fair share. True once no role lacks anything. */
  private guaranteeStage(agent: AgentState, pass: Pass): boolean {
    if (!this.allocatable(agent.free)) return false;
    const headroom = pass.headroom!;
    for (const role of this.rolesLacking()) {
      const lack = this.quota.unsatisfied(role);
      if (lack.size === 0) continue;
      const stage1 = guaranteeOffer(offerableTo(agent.free, role), lack, this.quota.limitRoom(role), headroom);
      if (!stage1 || !this.allocatable(stage1.offer)) continue;
      const frameworkId = this.firstEligible(role, agent.id, stage1.offer, pass);
      if (!frameworkId) continue;
      this.give(agent, frameworkId, role, stage1.offer, pass, stage1.guaranteed);
      if (!headroom.needed) return true;
      if (!this.allocatable(agent.free)) break;
    }
    return false;
  }

  /** Stage 2 on one agent: fair share. True when the pass can stop (every framework reached the offer cap). */
  private fairStage(agent: AgentState, pass: Pass): boolean {
    if (!this.allocatable(agent.free)) return false;
    // A copy: the order changes as soon as this agent is allocated.
    for (const role of [...this.roleSorter.sort()]) {
      let offerable = offerableTo(agent.free, role);
      const caps = this.capsFor(role, pass.headroom);
      if (caps) offerable = capUnreserved(offerable, caps);
      if (offerable !== agent.free && !this.allocatable(offerable)) continue;
      const frameworkId = this.firstEligible(role, agent.id, offerable, pass);
      if (!frameworkId) continue;
      this.give(agent, frameworkId, role, offerable, pass);
      if (pass.offers && pass.capped >= pass.pairs) return true;
      // What is left is reserved for other roles, or held back by quota: they come next.
      if (!this.allocatable(agent.free)) break;
    }
    return false;
  }

  /** Roles with a guarantee and frameworks, by weighted share: those that may take part in stage 1. */
  private rolesLacking(): string[] {
    const roles = [...this.quota.quotaRoles()].filter((r) => this.frameworkSorters.has(r));
    const share = new Map(roles.map((r) => [r, this.roleSorter.share(r)]));
    return roles.sort((a, b) => share.get(a)! - share.get(b)! || (a < b ? -1 : 1));
  }

  /** Stage 2's caps on unreserved amounts for a role: its limit, and the headroom others' guarantees need. Null when none apply. */
  private capsFor(role: string, headroom: Headroom | null): Map<string, number> | null {
    if (!this.quota.active) return null;
    const caps = this.quota.limitRoom(role);
    if (!headroom?.needed) return caps;
    const out = caps ?? new Map<string, number>();
    headroom.capAtSurplus(out);
    return out;
  }

  private give(agent: AgentState, frameworkId: string, role: string, offer: Resources, pass: Pass, guaranteed?: Quantities): void {
    agent.free = offer === agent.free ? Resources.EMPTY : agent.free.subtract(offer);
    const byRole = agent.held.get(frameworkId) ?? new Map<string, Resources>();
    byRole.set(role, (byRole.get(role) ?? Resources.EMPTY).add(offer));
    agent.held.set(frameworkId, byRole);
    this.track(frameworkId, role, offer, 1);
    pass.headroom?.taken(quantitiesOf(offer, UNRESERVED), guaranteed);
    pass.decisions.push({ frameworkId, agentId: agent.id, role, resources: offer });
    if (pass.offers) {
      let byRole = pass.offers.get(frameworkId);
      if (!byRole) pass.offers.set(frameworkId, (byRole = new Map()));
      const n = (byRole.get(role) ?? 0) + 1;
      byRole.set(role, n);
      if (n === this.offersPerFramework) pass.capped++;
    }
  }

  private firstEligible(role: string, agentId: string, offerable: Resources, pass: Pass): string | undefined {
    for (const frameworkId of this.frameworkSorters.get(role)?.sort() ?? []) {
      const fw = this.frameworks.get(frameworkId)!;
      if (!fw.active || fw.suppressed.has(role)) continue;
      if (pass.offers && (pass.offers.get(frameworkId)?.get(role) ?? 0) >= this.offersPerFramework) continue;
      if (fw.filters.size > 0 && fw.filters.hides(agentId, role, offerable, pass.now)) continue;
      return frameworkId;
    }
    return undefined;
  }

  // ---- bookkeeping -------------------------------------------------------

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
    if (this.quota.active) this.quota.allocate(role, resources, sign);
  }

  private setTotal(total: Resources): void {
    this.total = total;
    this.roleSorter.setTotal(total);
    for (const s of this.frameworkSorters.values()) s.setTotal(total);
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
