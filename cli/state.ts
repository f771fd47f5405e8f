// `mesos-ts state | agents | frameworks | tasks`: what the master knows, as
// aligned tables (or, with --json, the operator API's answer as it came, for
// scripts). Everything is read through the master's v1 operator API
// (POST /api/v1, master/operator/http.ts); a standby redirects to the leader.
import { CLIENT_CREDENTIAL_FLAGS, basicAuthorization, clientCredential, type Credential } from '../common/credentials.js';
import { parseFlags, usage } from '../common/flags.js';
import { FailedPrecondition, InvalidArgument, Unavailable } from '../common/errors.js';
import { MASTER_FLAG, masterAddress } from './master-address.js';
import { quantity, table } from './table.js';
import { TLS_FLAGS, clientTls, httpScheme, type Tls } from '../common/tls.js';
import { fetchFailure, tlsFetch } from '../common/tls-fetch.js';

export type View = 'state' | 'agents' | 'frameworks' | 'tasks';

const COMMON_FLAGS = {
  master: MASTER_FLAG,
  ...CLIENT_CREDENTIAL_FLAGS,
  ...TLS_FLAGS,
  json: { type: 'boolean', default: false, help: "print the operator API's JSON answer instead of a table" },
} as const;
const TASKS_FLAGS = { ...COMMON_FLAGS, all: { type: 'boolean', default: false, help: 'include completed tasks' } } as const;

const SUMMARY: Record<View, string> = {
  state: 'Summarizes the cluster: the leading master, agents, frameworks, tasks by state and resources.',
  agents: 'Lists the agents: id, hostname, active, cpus and mem used/total, tasks.',
  frameworks: 'Lists the frameworks: id, name, active, roles, tasks, cpus and mem allocated.',
  tasks: 'Lists the tasks: id, framework, agent, state, cpus, mem (--all adds completed tasks).',
};

// The parts of mesos.v1.master.Response this command reads (Mesos's JSON: empty lists may be left out).
interface ResourceJson { name: string; scalar?: { value: number } }
interface TaskJson { task_id: { value: string }; framework_id: { value: string }; agent_id: { value: string }; state: string; resources?: ResourceJson[] }
interface AgentJson {
  agent_info: { id: { value: string }; hostname: string; port?: number };
  active?: boolean;
  /** Set by an operator (DEACTIVATE_AGENT, DRAIN_AGENT) or the agent's own drain. */
  deactivated?: boolean;
  drain_info?: { state: string };
  total_resources?: ResourceJson[];
  allocated_resources?: ResourceJson[];
}
interface FrameworkJson {
  framework_info: { id: { value: string }; name?: string; roles?: string[]; role?: string };
  active?: boolean;
  allocated_resources?: ResourceJson[];
}
interface GetTasks { tasks?: TaskJson[]; unreachable_tasks?: TaskJson[]; completed_tasks?: TaskJson[] }
interface GetState {
  get_tasks?: GetTasks;
  get_frameworks?: { frameworks?: FrameworkJson[]; completed_frameworks?: FrameworkJson[] };
  get_agents?: { agents?: AgentJson[]; recovered_agents?: unknown[] };
}
interface GetMaster { master_info?: { pid?: string; version?: string; hostname?: string }; start_time?: number }
interface Metric { name: string; value?: number }

export async function stateCommand(view: View, argv: string[]): Promise<number> {
  const flags = parseFlags(view === 'tasks' ? TASKS_FLAGS : COMMON_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage(view, SUMMARY[view], view === 'tasks' ? TASKS_FLAGS : COMMON_FLAGS) + '\n');
    return 0;
  }
  if (flags._.length > 0) throw new InvalidArgument(`unexpected argument '${flags._[0]}' (see mesos-ts ${view} --help)`);
  const tls = clientTls(flags, process.env);
  const master: MasterHttp = { address: await masterAddress(flags.master), credential: clientCredential(flags), tls };
  const state = (await operatorCall<{ get_state?: GetState }>(master, 'GET_STATE')).get_state ?? {};
  const all = 'all' in flags && flags.all === true;
  if (flags.json) {
    const part = { state, agents: state.get_agents, frameworks: state.get_frameworks, tasks: tasksJson(state.get_tasks ?? {}, all) }[view];
    process.stdout.write(JSON.stringify(part ?? {}, null, 2) + '\n');
    return 0;
  }
  if (view === 'agents') process.stdout.write(agentsTable(state));
  if (view === 'frameworks') process.stdout.write(frameworksTable(state));
  if (view === 'tasks') process.stdout.write(tasksTable(state, all));
  if (view === 'state') {
    const info = (await operatorCall<{ get_master?: GetMaster }>(master, 'GET_MASTER')).get_master ?? {};
    const metrics = (await operatorCall<{ get_metrics?: { metrics?: Metric[] } }>(master, 'GET_METRICS')).get_metrics?.metrics ?? [];
    process.stdout.write(summary(state, info, new Map(metrics.map((m) => [m.name, m.value ?? 0])), master.address));
  }
  return 0;
}

/** The leading master's HTTP address, and the credential to present (--principal/--secret or --credential) to a master that authenticates. */
export interface MasterHttp {
  readonly address: string;
  readonly credential?: Credential | undefined;
  /** https with these (--ssl_* flags, LIBPROCESS_SSL_*); plain http without. */
  readonly tls?: Tls | null;
}

/** One call of the v1 operator API; a standby's 307 is followed to the leader. */
/**
 * One call of the master's v1 operator API in JSON (`call` is a Call type, or
 * a whole Call). A write call's answer has no body: `{}`. A refusal (4xx)
 * throws InvalidArgument or FailedPrecondition with the master's reason.
 */
export async function operatorCall<T>(master: string | MasterHttp, call: string | ({ type: string } & Record<string, unknown>)): Promise<T> {
  const body = typeof call === 'string' ? { type: call } : call;
  const { address, credential, tls = null } = typeof master === 'string' ? { address: master, credential: undefined } : master;
  const url = `${httpScheme(tls)}://${address}/api/v1`;
  let res: Response;
  try {
    res = await tlsFetch(tls)(url, {
      method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(credential ? { Authorization: basicAuthorization(credential) } : {}) },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Unavailable(fetchFailure(`the master at ${url}`, err, tls));
  }
  const text = await res.text();
  if (res.status === 400) throw new InvalidArgument(`the master refused ${body.type}: ${text.trim()}`);
  if (res.status >= 400 && res.status < 500) throw new FailedPrecondition(`the master refused ${body.type} (${res.status}): ${text.trim()}`);
  if (!res.ok) throw new Unavailable(`the master answered ${body.type} with ${res.status}: ${text.trim()}`);
  return (text ? JSON.parse(text) : {}) as T;
}

const scalar = (resources: readonly ResourceJson[] | undefined, name: string) =>
  (resources ?? []).filter((r) => r.name === name).reduce((sum, r) => sum + (r.scalar?.value ?? 0), 0);
const ofTotal = (used: readonly ResourceJson[] | undefined, total: readonly ResourceJson[] | undefined, name: string) =>
  `${quantity(scalar(used, name))}/${quantity(scalar(total, name))}`;
const TERMINAL = new Set(['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR']);
const liveTasks = (tasks: GetTasks) => [...(tasks.tasks ?? []), ...(tasks.unreachable_tasks ?? [])].filter((t) => !TERMINAL.has(t.state));

function tasksJson(tasks: GetTasks, all: boolean): GetTasks {
  return all ? tasks : { tasks: tasks.tasks ?? [], unreachable_tasks: tasks.unreachable_tasks ?? [] };
}

function agentsTable(state: GetState): string {
  const live = liveTasks(state.get_tasks ?? {});
  const rows = (state.get_agents?.agents ?? []).map((a) => [
    a.agent_info.id.value,
    a.agent_info.hostname,
    a.active ? 'yes' : a.drain_info ? a.drain_info.state.toLowerCase() : a.deactivated ? 'deactivated' : 'no',
    ofTotal(a.allocated_resources, a.total_resources, 'cpus'),
    ofTotal(a.allocated_resources, a.total_resources, 'mem'),
    String(live.filter((t) => t.agent_id.value === a.agent_info.id.value).length),
  ]);
  return table(
    [{ header: 'ID' }, { header: 'HOSTNAME' }, { header: 'ACTIVE' }, { header: 'CPUS', align: 'right' }, { header: 'MEM', align: 'right' }, { header: 'TASKS', align: 'right' }],
    rows,
  );
}

function frameworksTable(state: GetState): string {
  const live = liveTasks(state.get_tasks ?? {});
  const rows = (state.get_frameworks?.frameworks ?? []).map((f) => [
    f.framework_info.id.value,
    f.framework_info.name ?? '',
    f.active ? 'yes' : 'no',
    (f.framework_info.roles?.length ? f.framework_info.roles : [f.framework_info.role ?? '*']).join(','),
    String(live.filter((t) => t.framework_id.value === f.framework_info.id.value).length),
    quantity(scalar(f.allocated_resources, 'cpus')),
    quantity(scalar(f.allocated_resources, 'mem')),
  ]);
  return table(
    [{ header: 'ID' }, { header: 'NAME' }, { header: 'ACTIVE' }, { header: 'ROLES' }, { header: 'TASKS', align: 'right' },
      { header: 'CPUS', align: 'right' }, { header: 'MEM', align: 'right' }],
    rows,
  );
}

function tasksTable(state: GetState, all: boolean): string {
  const tasks = state.get_tasks ?? {};
  const list = [...(tasks.tasks ?? []), ...(tasks.unreachable_tasks ?? []), ...(all ? (tasks.completed_tasks ?? []) : [])];
  const rows = list.map((t) => [
    t.task_id.value, t.framework_id.value, t.agent_id.value, t.state, quantity(scalar(t.resources, 'cpus')), quantity(scalar(t.resources, 'mem')),
  ]);
  return table(
    [{ header: 'ID' }, { header: 'FRAMEWORK' }, { header: 'AGENT' }, { header: 'STATE' }, { header: 'CPUS', align: 'right' }, { header: 'MEM', align: 'right' }],
    rows,
  );
}

function summary(state: GetState, info: GetMaster, metrics: ReadonlyMap<string, number>, address: string): string {
  const agents = state.get_agents?.agents ?? [];
  const frameworks = state.get_frameworks?.frameworks ?? [];
  const byState = new Map<string, number>();
  for (const t of liveTasks(state.get_tasks ?? {})) byState.set(t.state, (byState.get(t.state) ?? 0) + 1);
  const counts = (entries: Iterable<[string, number]>) => [...entries].filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ') || 'none';
  const ended = ['finished', 'failed', 'killed', 'lost', 'error', 'dropped', 'gone'].map((s): [string, number] => [s, metrics.get(`master/tasks_${s}`) ?? 0]);
  const percent = (name: string) => `${quantity((metrics.get(`master/${name}_percent`) ?? 0) * 100)}%`;
  const uptime = metrics.get('master/uptime_secs') ?? 0;
  const rows: [string, string][] = [
    ['master', `${info.master_info?.pid ?? address} (version ${info.master_info?.version ?? '?'}), up ${duration(uptime)}`],
    ['agents', `${agents.filter((a) => a.active).length} active of ${agents.length}` +
      `${state.get_agents?.recovered_agents?.length ? `, ${state.get_agents.recovered_agents.length} not yet back after a failover` : ''}`],
    ['frameworks', `${frameworks.filter((f) => f.active).length} active of ${frameworks.length}`],
    ['tasks', counts([...byState].map(([s, n]): [string, number] => [s.replace(/^TASK_/, '').toLowerCase(), n]))],
    ['ended', `${counts(ended)} (since this master started)`],
    ['cpus', `${quantity(metrics.get('master/cpus_used') ?? 0)} of ${quantity(metrics.get('master/cpus_total') ?? 0)} allocated (${percent('cpus')})`],
    ['mem', `${quantity(metrics.get('master/mem_used') ?? 0)} of ${quantity(metrics.get('master/mem_total') ?? 0)} MB allocated (${percent('mem')})`],
    ['offers', `${metrics.get('master/outstanding_offers') ?? 0} outstanding`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${label.padEnd(width)}${value}`).join('\n') + '\n';
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
