// The order in which a pass visits agents: the one thing, with the sorters,
// that tells the built-in policies apart. Each agent visited is offered to
// the role and framework the sorters put first, so the agents early in the
// order are the ones frameworks see first.
import type { Resources } from '../../common/resources.js';

export interface AgentView {
  readonly id: string;
  readonly total: Resources;
  readonly free: Resources;
}

export type AgentOrder = (agents: readonly AgentView[], random: () => number) => string[];

/** Mesos's order: a fresh shuffle every pass, so no agent is always first. */
export const shuffled: AgentOrder = (agents, random) => {
  const ids = agents.map((a) => a.id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
};

/** Bin packing: the fullest agents first (ties by id), so new work lands where work already runs. */
export const mostUsedFirst: AgentOrder = (agents) => byUsage(agents, -1);

/** Spreading: the emptiest agents first (ties by id). */
export const leastUsedFirst: AgentOrder = (agents) => byUsage(agents, 1);

const USAGE_NAMES = ['cpus', 'mem', 'disk', 'gpus'] as const;

/** An agent's usage: its largest allocated fraction of any resource (its "dominant" usage). */
export function usage(agent: AgentView): number {
  let used = 0;
  for (const name of USAGE_NAMES) {
    const total = agent.total.scalar(name);
    if (total > 0) used = Math.max(used, 1 - agent.free.scalar(name) / total);
  }
  return used;
}

function byUsage(agents: readonly AgentView[], direction: 1 | -1): string[] {
  const keyed = agents.map((a) => ({ id: a.id, used: usage(a) }));
  keyed.sort((a, b) => direction * (a.used - b.used) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return keyed.map((k) => k.id);
}
