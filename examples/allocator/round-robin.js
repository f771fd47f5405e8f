// A complete allocation policy in plain JavaScript, loaded with
//
//   mesos-ts master --allocator ./examples/allocator/round-robin.js
//
// Round robin: each free agent goes, whole, to the next framework in turn
// (in subscription order), skipping frameworks that are inactive,
// suppressed or refusing that agent. No fairness by share, no weights, no
// quota: a baseline to compare the built-in policies with. It imports
// nothing: the Resources values the master passes in carry the arithmetic
// (add, subtract, contains, filter, isEmpty).
//
// The module's default export is the factory: options in, Allocator out.
// docs/allocator.md walks through it.

/** @typedef {import('../../master/allocator/allocator.js').Allocator} Allocator */
/** @typedef {import('../../master/allocator/allocator.js').AllocatorOptions} AllocatorOptions */
/** @typedef {import('../../common/resources.js').Resources} Resources */

/**
 * @param {AllocatorOptions} [options]
 * @returns {Allocator}
 */
export default function createRoundRobin(options = {}) {
  const minimums = options.minAllocatable ?? [];
  /** @type {Map<string, { free: Resources }>} */
  const agents = new Map();
  /** @type {Map<string, { roles: string[], active: boolean, suppressed: Set<string>, refused: Map<string, number> }>} */
  const frameworks = new Map();
  let turn = 0;

  /** @param {Resources} r */
  const allocatable = (r) => !r.isEmpty() && (minimums.length === 0 || minimums.some((min) => r.contains(min)));

  return {
    name: 'round-robin',

    addAgent(agentId, total, used = new Map()) {
      let free = total;
      for (const r of used.values()) if (free.contains(r)) free = free.subtract(r);
      agents.set(agentId, { free });
    },
    removeAgent(agentId) {
      agents.delete(agentId);
      for (const f of frameworks.values()) f.refused.delete(agentId);
    },

    addFramework(frameworkId, spec) {
      const roles = spec.roles.length > 0 ? [...spec.roles] : ['*'];
      frameworks.set(frameworkId, { roles, active: spec.active ?? true, suppressed: new Set(spec.suppressedRoles ?? []), refused: new Map() });
    },
    removeFramework(frameworkId) {
      frameworks.delete(frameworkId);
    },
    setFrameworkActive(frameworkId, active) {
      const f = frameworks.get(frameworkId);
      if (f) f.active = active;
    },

    recoverResources(frameworkId, agentId, resources, refuseSeconds, now) {
      const agent = agents.get(agentId);
      if (!agent) return;
      agent.free = agent.free.add(resources);
      const f = frameworks.get(frameworkId);
      if (f && refuseSeconds > 0) f.refused.set(agentId, now + refuseSeconds);
    },

    suppress(frameworkId, roles) {
      const f = frameworks.get(frameworkId);
      if (f) for (const role of roles ?? f.roles) f.suppressed.add(role);
    },
    revive(frameworkId, roles) {
      const f = frameworks.get(frameworkId);
      if (!f) return;
      for (const role of roles ?? f.roles) f.suppressed.delete(role);
      f.refused.clear();
    },

    allocate(now) {
      const ids = [...frameworks.keys()];
      const decisions = [];
      if (ids.length === 0) return decisions;
      for (const [agentId, agent] of agents) {
        if (!allocatable(agent.free)) continue;
        for (let k = 0; k < ids.length; k++) {
          const frameworkId = ids[(turn + k) % ids.length];
          const f = frameworks.get(frameworkId);
          const role = f.roles.find((r) => !f.suppressed.has(r));
          if (!f.active || role === undefined || (f.refused.get(agentId) ?? 0) > now) continue;
          // Unreserved resources, and those reserved for the role.
          const offer = agent.free.filter((e) => e.role === '*' || e.role === role);
          if (!allocatable(offer)) continue;
          agent.free = agent.free.subtract(offer);
          decisions.push({ frameworkId, agentId, role, resources: offer });
          turn = (turn + k + 1) % ids.length;
          break;
        }
      }
      return decisions;
    },
  };
}
