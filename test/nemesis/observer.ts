// What the runner itself watches during a fault run and writes to the
// history: which masters answer as leader (every live one polled at once),
// the leadership lines of the masters' own logs, each agent's total as the
// leader lists it, and the task containers running on the engines. Also the
// end snapshot the checker compares the history with.
import type { MasterProc } from '../harness/processes.js';
import { totalsOf, type HistoryWriter } from './history.js';
import type { NemesisCluster } from './cluster.js';
import type { EndSnapshot, EndTask } from './checker.js';

interface JsonResource { name: string; scalar?: { value: number }; ranges?: { range: { begin: number; end: number }[] } }
interface JsonTask { task_id: { value: string }; framework_id: { value: string }; state: string }
interface JsonFramework { framework_info: { id?: { value: string } } }
export interface GetState {
  get_tasks?: { tasks?: JsonTask[]; completed_tasks?: JsonTask[]; unreachable_tasks?: JsonTask[]; orphan_tasks?: JsonTask[] };
  get_frameworks?: { frameworks?: (JsonFramework & { active?: boolean })[]; completed_frameworks?: JsonFramework[] };
  get_agents?: { agents?: { agent_info: { id: { value: string } }; total_resources?: JsonResource[]; active?: boolean }[] };
}

const LEADING = /master \S+ leading;/;
const STEPPED_DOWN = /no longer leading/;

/** The operator API's answer to `type` from the master at `httpAddress`, or null (not leading, down, slow). */
export async function operatorCall<T>(httpAddress: string, type: string, key: string): Promise<T | null> {
  const res = await fetch(`http://${httpAddress}/api/v1`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ type }),
    redirect: 'manual', signal: AbortSignal.timeout(5000),
  }).catch(() => null);
  if (res?.status !== 200) {
    await res?.body?.cancel();
    return null;
  }
  return ((await res.json()) as Record<string, T>)[key] ?? null;
}

export class Observer {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly linesRead = new Map<MasterProc, number>();
  private readonly exitSeen = new Set<MasterProc>();
  private readonly agentsSeen = new Map<string, string>();
  private busy = new Set<string>();

  constructor(private readonly cluster: NemesisCluster, private readonly history: HistoryWriter) {}

  start(): void {
    this.every('leaders', 500, () => this.pollLeaders());
    this.every('logs', 200, async () => this.readMasterLogs());
    this.every('engine', 2000, async () => {
      await this.sampleContainers();
      await this.recordAgents();
    });
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Every live master at once: those that answer GET /state with 200 lead. */
  async pollLeaders(): Promise<string[]> {
    const masters = [...this.cluster.masters.values()].filter((m) => m.alive());
    const answers = await Promise.all(masters.map(async (m) => {
      const res = await fetch(`http://${m.httpAddress}/state`, { redirect: 'manual', signal: AbortSignal.timeout(1000) }).catch(() => null);
      await res?.body?.cancel();
      return res?.status === 200;
    }));
    const leaders = masters.filter((_, i) => answers[i]).map((m) => m.name);
    this.history.record({ type: 'leaders', leaders });
    return leaders;
  }

  /** Leadership lines since the last look, step-downs and exits before new leaders (lines of one look have no order between masters). */
  readMasterLogs(): void {
    const leading: string[] = [];
    for (const m of this.cluster.group.processes()) {
      if (!('grpcAddress' in m)) continue;
      const master = m as MasterProc;
      const from = this.linesRead.get(master) ?? 0;
      for (const line of master.lines.slice(from)) {
        if (STEPPED_DOWN.test(line)) this.history.record({ type: 'master-log', master: master.name, event: 'stepped-down' });
        else if (LEADING.test(line)) leading.push(master.name);
      }
      this.linesRead.set(master, master.lines.length);
      if (!master.alive() && !this.exitSeen.has(master)) {
        this.exitSeen.add(master);
        this.history.record({ type: 'master-log', master: master.name, event: 'exited' });
      }
    }
    for (const name of leading) this.history.record({ type: 'master-log', master: name, event: 'leading' });
  }

  async sampleContainers(): Promise<void> {
    const running: Record<string, number> = {};
    for (const c of await this.cluster.taskContainers()) if (c.running) running[c.taskId] = (running[c.taskId] ?? 0) + 1;
    this.history.record({ type: 'containers', running });
  }

  /** Each agent's total, the first time the leader lists it (and again if it changes). */
  async recordAgents(): Promise<void> {
    const leader = await this.cluster.leader();
    const agents = leader && (await operatorCall<GetState['get_agents']>(leader.httpAddress, 'GET_AGENTS', 'get_agents'));
    for (const a of agents?.agents ?? []) {
      const total = totalsOf(a.total_resources ?? []);
      const id = a.agent_info.id.value;
      if (this.agentsSeen.get(id) === JSON.stringify(total)) continue;
      this.agentsSeen.set(id, JSON.stringify(total));
      this.history.record({ type: 'agent', agentId: id, total });
    }
  }

  private every(name: string, ms: number, fn: () => Promise<unknown>): void {
    this.timers.push(setInterval(() => {
      if (this.busy.has(name)) return; // The last round is still out (a frozen master, a slow engine).
      this.busy.add(name);
      fn().catch(() => {}).finally(() => this.busy.delete(name));
    }, ms));
  }
}

/** The leader's GET_STATE and the run's containers, as the checker takes them. */
export async function endSnapshot(cluster: NemesisCluster, state: GetState): Promise<EndSnapshot> {
  const t = state.get_tasks ?? {};
  const tasks: EndTask[] = [...(t.tasks ?? []), ...(t.unreachable_tasks ?? []), ...(t.orphan_tasks ?? []), ...(t.completed_tasks ?? [])]
    .map((x) => ({ frameworkId: x.framework_id.value, taskId: x.task_id.value, state: x.state }));
  const f = state.get_frameworks ?? {};
  const frameworks = [...(f.frameworks ?? []), ...(f.completed_frameworks ?? [])].flatMap((x) => (x.framework_info.id ? [x.framework_info.id.value] : []));
  const agents = (state.get_agents?.agents ?? []).map((a) => ({ agentId: a.agent_info.id.value, total: totalsOf(a.total_resources ?? []) }));
  return { tasks, frameworks, agents, containers: await cluster.taskContainers() };
}
