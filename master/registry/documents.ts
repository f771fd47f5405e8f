// The registry's entries as JSON documents and back: what an agent, a
// framework, a task shard or a setting looks like in the store, and the
// checks a document passes before the registry takes it (one that does not
// parse throws, and the registry skips it with a warning).
import type { AgentInfoOut, FrameworkInfoOut, ResourceIn } from '../../proto/index.js';
import type { RegistryAgent, RegistryDrain, RegistryFramework, RegistrySettings, RegistryTask } from './entries.js';

export const taskKeyOf = (frameworkId: string, taskId: string) => `${frameworkId}/${taskId}`;

export function settingsDoc(settings: RegistrySettings, id: string): Record<string, unknown> {
  if (id === 'weights') return { weights: Object.fromEntries(settings.weights) };
  if (id === 'quota') return { quotas: Object.fromEntries(settings.quotas) };
  return { windows: settings.windows, down: settings.down };
}

/** Reads a settings document; one that does not parse throws (the entry is skipped with a warning). */
export function settingsFromDoc(settings: RegistrySettings, id: string, doc: Record<string, unknown>): void {
  const object = (v: unknown, what: string) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
    return v as Record<string, unknown>;
  };
  const machine = (m: unknown) => {
    const o = object(m, 'a machine');
    return { hostname: typeof o.hostname === 'string' ? o.hostname : '', ip: typeof o.ip === 'string' ? o.ip : '' };
  };
  if (id === 'weights') {
    for (const [role, w] of Object.entries(object(doc.weights, 'weights'))) if (typeof w === 'number' && w > 0) settings.weights.set(role, w);
  } else if (id === 'quota') {
    for (const [role, q] of Object.entries(object(doc.quotas, 'quotas'))) {
      const o = object(q, `the quota of ${role}`);
      settings.quotas.set(role, { guarantee: typeof o.guarantee === 'string' ? o.guarantee : '', limit: typeof o.limit === 'string' ? o.limit : '' });
    }
  } else if (id === 'maintenance') {
    if (!Array.isArray(doc.windows) || !Array.isArray(doc.down)) throw new Error('maintenance without windows and down');
    settings.windows = doc.windows.map((w) => {
      const o = object(w, 'a window');
      if (!Array.isArray(o.machines) || typeof o.start !== 'number') throw new Error('a window without machines and start');
      return { machines: o.machines.map(machine), start: o.start, duration: typeof o.duration === 'number' ? o.duration : null };
    });
    settings.down = doc.down.map(machine);
  } else {
    throw new Error(`unknown setting ${id}`);
  }
}

export function agentFromDoc(doc: Record<string, unknown>): RegistryAgent {
  const info = doc.info as AgentInfoOut | undefined;
  if (!info || typeof info !== 'object' || typeof info.hostname !== 'string') throw new Error('agent entry without info.hostname');
  const tasks = new Map<string, RegistryTask>();
  for (const t of tasksFromDoc(doc)) tasks.set(taskKeyOf(t.framework_id, t.task_id), t);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const reservations = Array.isArray(doc.reservations) ? (doc.reservations as ResourceIn[]) : [];
  const drain = doc.drain as RegistryDrain | null | undefined;
  return {
    info, ip: typeof doc.ip === 'string' ? doc.ip : '', registered_time: num(doc.registered_time) ?? 0, unreachable_time: num(doc.unreachable_time), gone_time: num(doc.gone_time), tasks, reservations,
    task_shards: typeof doc.task_shards === 'number' && Number.isInteger(doc.task_shards) && doc.task_shards > 0 ? doc.task_shards : 0,
    deactivated: doc.deactivated === true,
    secret_hash: typeof doc.secret_hash === 'string' ? doc.secret_hash : '',
    drain: drain && (drain.state === 'DRAINING' || drain.state === 'DRAINED')
      ? { state: drain.state, max_grace_period: num(drain.max_grace_period), mark_gone: drain.mark_gone === true } : null,
  };
}

/** The tasks listed in an agent's entry or a shard; entries without ids are skipped. */
export function tasksFromDoc(doc: Record<string, unknown>): RegistryTask[] {
  const tasks: RegistryTask[] = [];
  for (const t of Array.isArray(doc.tasks) ? (doc.tasks as RegistryTask[]) : []) {
    if (typeof t?.framework_id === 'string' && typeof t.task_id === 'string') {
      tasks.push({ framework_id: t.framework_id, task_id: t.task_id, name: typeof t.name === 'string' ? t.name : '', resources: typeof t.resources === 'string' ? t.resources : '' });
    }
  }
  return tasks;
}

export function frameworkFromDoc(doc: Record<string, unknown>): RegistryFramework {
  const info = doc.info as FrameworkInfoOut | undefined;
  if (!info || typeof info !== 'object' || typeof info.name !== 'string') throw new Error('framework entry without info.name');
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return { info, registered_time: num(doc.registered_time) ?? 0, removed_time: num(doc.removed_time) };
}
