// `mesos-ts logs TASK_ID`: a task's stdout (or --stderr) from its sandbox,
// wherever it runs. The master's /master/state says which agent has the task; the
// agent's /files/read serves the file. --follow keeps printing what the task
// writes until it ends (or Ctrl-C).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseFlags, usage } from '../common/flags.js';
import { InvalidArgument, NotFound, Unavailable } from '../common/errors.js';
import { isTerminal } from '../common/task-state.js';
import type { TaskState } from '../proto/index.js';
import { CLIENT_CREDENTIAL_FLAGS, basicAuthorization, clientCredential, type Credential } from '../common/credentials.js';
import { MASTER_FLAG, masterAddress } from './master-address.js';
import { TLS_FLAGS, clientTls, httpScheme, type Tls } from '../common/tls.js';
import { fetchFailure, tlsFetch } from '../common/tls-fetch.js';

export const LOGS_FLAGS = {
  master: MASTER_FLAG,
  framework: { type: 'string', help: 'the framework id, when several frameworks have a task of that id' },
  stderr: { type: 'boolean', default: false, help: 'show stderr instead of stdout' },
  follow: { type: 'boolean', default: false, help: 'keep printing new output until the task ends' },
  tail: { type: 'number', help: 'start this many bytes before the end (default: the whole file)' },
  ...CLIENT_CREDENTIAL_FLAGS,
  ...TLS_FLAGS,
} as const;

interface StateTask {
  id: string;
  framework_id: string;
  slave_id: string;
  state: string;
}
/** The parts of /master/state (Mesos's shape) this command reads. */
interface StateFramework {
  tasks: StateTask[];
  unreachable_tasks: StateTask[];
  completed_tasks: StateTask[];
}
interface MasterState {
  frameworks: StateFramework[];
  completed_frameworks: StateFramework[];
  slaves: { id: string; hostname: string; port: number }[];
}

export async function logsCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(LOGS_FLAGS, argv, { env: process.env });
  if (flags.help) {
    process.stdout.write(usage('logs TASK_ID', "Prints a task's stdout (or stderr) from its sandbox on its agent.", LOGS_FLAGS) + '\n');
    return 0;
  }
  const taskId = flags._[0];
  if (!taskId || flags._.length > 1) throw new InvalidArgument('give exactly one TASK_ID (mesos-ts logs TASK_ID [--follow])');
  if (flags.tail !== undefined && !(Number.isInteger(flags.tail) && flags.tail >= 0)) throw new InvalidArgument(`--tail must be a whole number of bytes, got ${flags.tail}`);
  const tls = clientTls(flags, process.env);
  const masterHttp = await masterAddress(flags.master);
  // Master and agents may authenticate their read-only endpoints (and the agent asks its --acls, access_sandboxes): the same credential goes to both.
  const credential = clientCredential(flags);
  const state = await getJson<MasterState>(`${httpScheme(tls)}://${masterHttp}/master/state`, tls, credential);
  const task = findTask(state, taskId, flags.framework);
  const agent = state.slaves.find((a) => a.id === task.slave_id);
  if (!agent) throw new NotFound(`task ${taskId} ran on agent ${task.slave_id}, which the master no longer lists`);
  // The agent's origin: it speaks TLS when the master does (one cluster, one setting).
  const agentHttp = `${httpScheme(tls)}://${agent.hostname}:${agent.port}`;
  const path = join(await sandboxOf(agentHttp, task, tls, credential), flags.stderr ? 'stderr' : 'stdout');
  let offset = 0;
  if (flags.tail !== undefined) {
    const size = (await getJson<{ offset: number }>(readUrl(agentHttp, path, -1), tls, credential)).offset;
    offset = Math.max(0, size - flags.tail);
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    for (;;) {
      const chunk = await getJson<{ data: string; offset: number }>(readUrl(agentHttp, path, offset), tls, credential);
      process.stdout.write(chunk.data);
      offset += Buffer.byteLength(chunk.data);
      if (chunk.data.length > 0) continue;
      if (!flags.follow || stop.signal.aborted || (await taskEnded(agentHttp, task, tls, credential))) return 0;
      await sleep(500, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function findTask(state: MasterState, taskId: string, frameworkId: string | undefined): StateTask {
  const all = [...state.frameworks, ...state.completed_frameworks].flatMap((f) => [...f.tasks, ...f.unreachable_tasks, ...f.completed_tasks]);
  const matches = all.filter((t) => t.id === taskId && (!frameworkId || t.framework_id === frameworkId));
  const frameworks = [...new Set(matches.map((t) => t.framework_id))];
  if (frameworks.length === 0) throw new NotFound(`the master knows no task ${taskId}${frameworkId ? ` of framework ${frameworkId}` : ''}`);
  if (frameworks.length > 1) throw new InvalidArgument(`several frameworks have a task ${taskId} (${frameworks.join(', ')}); pick one with --framework`);
  return matches.find((t) => !isTerminal(t.state as TaskState)) ?? matches[matches.length - 1]!;
}

/** The agent's /state, as a Mesos agent shapes it: each task is its own executor, whose directory is the sandbox. */
interface AgentState {
  flags: { work_dir: string };
  frameworks: AgentFramework[];
  completed_frameworks: AgentFramework[];
}
interface AgentFramework {
  id: string;
  executors: AgentExecutor[];
  completed_executors: AgentExecutor[];
}
interface AgentExecutor {
  id: string;
  directory: string;
  tasks: { state: string }[];
  queued_tasks: unknown[];
}

function executorOf(state: AgentState, task: StateTask): { executor: AgentExecutor; live: boolean } | null {
  for (const [frameworks, live] of [[state.frameworks, true], [state.completed_frameworks, false]] as const) {
    const f = frameworks.find((fw) => fw.id === task.framework_id);
    const executor = f?.executors.find((e) => e.id === task.id) ?? f?.completed_executors.find((e) => e.id === task.id);
    if (executor) return { executor, live: live && f!.executors.includes(executor) };
  }
  return null;
}

async function sandboxOf(agentHttp: string, task: StateTask, tls: Tls | null, credential: Credential | undefined): Promise<string> {
  const state = await getJson<AgentState>(`${agentHttp}/state`, tls, credential);
  return executorOf(state, task)?.executor.directory ?? join(state.flags.work_dir, 'sandboxes', task.framework_id, task.id);
}

async function taskEnded(agentHttp: string, task: StateTask, tls: Tls | null, credential: Credential | undefined): Promise<boolean> {
  const found = executorOf(await getJson<AgentState>(`${agentHttp}/state`, tls, credential), task);
  if (!found?.live) return true;
  const { tasks, queued_tasks } = found.executor;
  return queued_tasks.length === 0 && tasks.every((t) => isTerminal(t.state as TaskState));
}

const readUrl = (agentHttp: string, path: string, offset: number) =>
  `${agentHttp}/files/read?path=${encodeURIComponent(path)}&offset=${offset}`;

async function getJson<T>(url: string, tls: Tls | null, credential: Credential | undefined): Promise<T> {
  let res: Response;
  try {
    res = await tlsFetch(tls)(url, { signal: AbortSignal.timeout(10_000), ...(credential ? { headers: { Authorization: basicAuthorization(credential) } } : {}) });
  } catch (err) {
    throw new Unavailable(fetchFailure(url, err, tls));
  }
  if (!res.ok) throw new Unavailable(`${url} answered ${res.status}: ${(await res.text()).trim()}`);
  return (await res.json()) as T;
}
