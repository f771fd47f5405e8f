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
// (total minus `used`), allocate() and recoverResources(). Adding or
// removing a framework changes only the fair-share bookkeeping (its share),
// never an agent's free pool: before removing a framework the master
// recovers what it holds. recoverResources() for a framework the allocator
// does not know simply returns the resources to the agent's pool.
import type { Resources } from '../../common/resources.js';

export interface AllocationDecision {
  readonly frameworkId: string;
  readonly agentId: string;
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
   * will not be offered this agent's resources again before `now + refuseSeconds`
   * (unless it revives).
   */
  recoverResources(frameworkId: string, agentId: string, resources: Resources, refuseSeconds: number, now: number): void;

  /** No offers for these roles (all of the framework's roles when omitted). */
  suppress(frameworkId: string, roles?: readonly string[]): void;
  /** Clears filters and suppression for these roles (all when omitted). */
  revive(frameworkId: string, roles?: readonly string[]): void;

  /** One allocation pass at time `now` (seconds). Marks what it returns as allocated. */
  allocate(now: number): AllocationDecision[];
}

export interface AllocatorOptions {
  /** An agent's free resources are offered only if they hold at least one of these. */
  readonly minAllocatable?: readonly Resources[];
  /** Random source in [0, 1) used to shuffle agents; injected for determinism. */
  readonly random?: () => number;
}
