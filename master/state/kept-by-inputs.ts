// A value made from a record, kept while what it was made from stays the
// same: the state endpoints write each agent's JSON again only when the
// agent, its tasks' resources or its offers changed, not on every build
// (round 8a in docs/scale/README.md). The inputs are compared one by one
// (===): records' fields that change, and the Resources values (kept
// objects, never changed in place) of the tasks and offers it holds.
import type { Resources } from '../../common/resources.js';
import type { AgentRecord } from './records.js';

export class KeptByInputs<K extends object, V> {
  private readonly entries = new WeakMap<K, { readonly inputs: readonly unknown[]; readonly value: V }>();

  /** The value kept for `key` when made from the same `inputs`, else `make()`'s, kept from now on. */
  get(key: K, inputs: readonly unknown[], make: () => V): V {
    const hit = this.entries.get(key);
    if (hit && sameInputs(hit.inputs, inputs)) return hit.value;
    const value = make();
    this.entries.set(key, { inputs, value });
    return value;
  }
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Everything an agent's JSON is made from, in v0 (/master/state's SlaveWriter,
 * v0/writers.ts) and in v1 (GET_AGENTS, operator/views.ts's agentView): a
 * field either of them reads must be listed here, or a kept JSON would miss
 * its change (test/unit/kept-agent-json.test.ts changes each one).
 * `info` is replaced, never changed in place, at each registration.
 */
export function agentInputs(agent: AgentRecord, used: readonly Resources[], offered: readonly Resources[]): unknown[] {
  const drain = agent.drain ?? null;
  return [
    agent.info, agent.ip, agent.total, agent.connected, agent.draining, agent.deactivated, drain, drain?.state,
    agent.registeredTime, agent.reregisteredTime, agent.version, used.length, ...used, ...offered,
  ];
}

/** What an offer's message (rpc/wire.ts's offerWire) reads of its agent; the offer record itself never changes. */
export function offerInputs(agent: AgentRecord | undefined): unknown[] {
  return [agent, agent?.info, agent?.ip, agent?.unavailability, agent?.dynamicReservations];
}
