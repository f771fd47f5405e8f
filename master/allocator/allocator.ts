// The allocator: level one of two-level scheduling.
//
// The master tells the allocator facts (an agent joined, a framework
// subscribed, resources came back, a framework suppressed or revived) and
// periodically asks it for an allocation pass. A pass is pure and
// synchronous: it looks at what is free, decides who gets what, marks those
// resources as allocated and returns the decisions; the master turns them
// into offers. No I/O here, and time comes in as an argument.
//
// Resources stay "allocated" to a framework from the moment they are
// offered until the master recovers them: an offer declined, rescinded or
// expired, the unused part of an accepted offer, or a task that ended.
//
// Bookkeeping contract: an agent's free pool changes only through addAgent
// (total minus `used`), allocate(), recoverResources() and
// updateAllocation(). Adding or removing a framework changes only the
// fair-share bookkeeping (its share), never an agent's free pool: before
// removing a framework the master recovers what it holds.
// recoverResources() for a framework the allocator does not know simply
// returns the resources to the agent's pool.
//
// A policy is any object with the required members below. The optional
// ones are used when present: the master drops RESERVE/UNRESERVE operations
// (with a log line) for a policy without updateAllocation, and /state lists
// what roles() returns.
import type { Resources } from '../../common/resources.js';

export interface AllocationDecision {
  readonly frameworkId: string;
  readonly agentId: string;
  /** The role the resources are allocated to (the offer's allocation_info.role). */
  readonly role: string;
  readonly resources: Resources;
}

export interface FrameworkSpec {
  readonly roles: readonly string[];
  /** Roles the framework subscribed with as suppressed. */
  readonly suppressedRoles?: readonly string[];
  /** Accepts resources reserved for its roles only if true; '*' always. */
  readonly active?: boolean;
}

/** A role's quota: scalar quantities, unreserved form (`cpus:4;mem:1024`). */
export interface RoleQuota {
  /** Offered to the role before any fair sharing, and held back from other roles until the role has it. */
  readonly guarantee?: Resources;
  /** Never allocated beyond, reservations included. */
  readonly limit?: Resources;
}

/** What a policy knows of a role, for /state and tests. */
export interface RoleSummary {
  readonly role: string;
  readonly weight: number;
  readonly quota: RoleQuota | null;
  /** Offered to or in use by the role's frameworks. */
  readonly allocated: Resources;
  /** Reserved for the role on agents (static and dynamic), allocated or not. */
  readonly reserved: Resources;
  /** What counts against quota: allocated unreserved resources plus every reservation of the role. */
  readonly consumed: Resources;
  /** The guarantee holds more of some resource than the whole cluster has. */
  readonly guaranteeAboveTotal: boolean;
  /** Weighted share used to order roles (0 for policies without fairness). */
  readonly share: number;
  readonly frameworks: readonly string[];
}

export interface Allocator {
  readonly name: string;

  /** `used`: resources on this agent already held by frameworks (re-registration). */
  addAgent(agentId: string, total: Resources, used?: ReadonlyMap<string, Resources>): void;
  removeAgent(agentId: string): void;

  /** `used`: resources the framework already holds, by agent. */
  addFramework(frameworkId: string, spec: FrameworkSpec, used?: ReadonlyMap<string, Resources>): void;
  removeFramework(frameworkId: string): void;
  /** A disconnected framework keeps what it holds but gets no offers. */
  setFrameworkActive(frameworkId: string, active: boolean): void;

  /**
   * Gives resources back to the pool. With `refuseSeconds` > 0 the framework
   * will not be offered this agent's resources again (for the role they were
   * allocated to) before `now + refuseSeconds` (unless it revives).
   */
  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds: number, now: number): void;

  /** No offers for these roles (all of the framework's roles when omitted). */
  suppress(frameworkId: string, roles?: readonly string[]): void;
  /** Clears filters and suppression for these roles (all when omitted). */
  revive(frameworkId: string, roles?: readonly string[]): void;

  /**
   * One allocation pass at time `now` (seconds). Marks what it returns as
   * allocated. A policy that honours `outOfTime` asks it between agents and,
   * once it says true, stops and keeps the agents it did not visit for the
   * next pass (`carrying` is then true); a policy may ignore it. It is given
   * how many decisions the pass made so far (the offers still to be made
   * from them count against the same budget).
   */
  allocate(now: number, outOfTime?: (decided: number) => boolean): AllocationDecision[];
  /** True while the last pass stopped for time and left agents to visit: the master runs the next pass soon. */
  readonly carrying?: boolean;

  /**
   * RESERVE / UNRESERVE: the framework holds `from` on the agent (offered to
   * it); from now on it holds `to` instead (the same quantities, reserved for
   * the role or unreserved), and the agent's total changes likewise. Throws
   * if the framework does not hold `from` there.
   */
  updateAllocation?(frameworkId: string, agentId: string, from: Resources, to: Resources): void;
  /** Replaces the weight of each role named (others keep theirs). */
  updateWeights?(weights: ReadonlyMap<string, number>): void;
  /** Sets (or with null removes) a role's quota. */
  setQuota?(role: string, quota: RoleQuota | null): void;
  /**
   * Every role with frameworks, a weight, a quota or reservations. The master
   * calls it on every pass (to log guarantees above the cluster's total) and
   * reads only `role`, `quota` and `guaranteeAboveTotal` there: compute the
   * rest lazily (getters) if it is costly.
   */
  roles?(): readonly RoleSummary[];
}

export interface AllocatorOptions {
  /** An agent's free resources are offered only if they hold at least one of these. */
  readonly minAllocatable?: readonly Resources[];
  /** Random source in [0, 1) used to shuffle agents; injected for determinism. */
  readonly random?: () => number;
  /** Role -> weight (default 1): a role of weight 2 gets twice the share of a role of weight 1. */
  readonly weights?: ReadonlyMap<string, number>;
  /** Role -> quota guarantee and/or limit. */
  readonly quotas?: ReadonlyMap<string, { readonly guarantee?: Resources; readonly limit?: Resources }>;
}

/** The members every policy must have (loadAllocator checks a loaded module's product against it). */
export const ALLOCATOR_METHODS = [
  'addAgent', 'removeAgent', 'addFramework', 'removeFramework', 'setFrameworkActive', 'recoverResources', 'suppress', 'revive', 'allocate',
] as const;
