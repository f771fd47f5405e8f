// An agent worker process (forked by main.ts): hosts `count` simulated
// agents, agent-<index> each, spread over `racks` racks, all dialling the
// master (or following the leader in ZooKeeper, through one LeaderDetector
// for the whole process), and reports their counts every 250 ms.
import type { TaskState } from '../../proto/index.js';
import { ZkSession } from '../../common/zk/session.js';
import { LeaderDetector } from '../../common/zk/detector.js';
import { parseZkUrl } from '../../common/zk/url.js';
import { SimAgent } from './sim-agent.js';
import { TRACE_MAX, loopDelaySampler, traced, wallNow, type AgentWorkerStart, type AgentWorkerProgress, type FromWorker, type ToWorker } from './ipc.js';

const REPORT_MS = 250;

// tsx maps every stack trace through the source maps. While a leader is dead, each of the worker's agents
// fails a Connect every 0.2-5 s and grpc-js formats a stack for each failure: a failover profile (N=5000,
// load ~30) showed a worker spending 2.5 s of 7 in source-mapped stacks and hearing of the new leader 3 s
// late, which the failover figures then counted against the master.
process.setSourceMapsEnabled(false);
const send = (m: FromWorker) => process.send?.(m);
const loopDelay = loopDelaySampler();

const agents: SimAgent[] = [];
const acknowledged: Record<string, number> = {};
let registered = 0;
let reregistrations = 0;
let lastRegisteredAt: number | null = null;
let follow: { session: ZkSession; detector: LeaderDetector } | null = null;
let reporter: NodeJS.Timeout | null = null;
const hops: Record<string, Record<string, number>> = {};
let tracedTasks = 0;

/** `first`: keep the first time (an update resent keeps the time it was first sent). */
function hop(taskId: string, name: string, first = false): void {
  if (!traced(taskId)) return;
  let h = hops[taskId];
  if (!h) {
    if (tracedTasks >= TRACE_MAX) return;
    tracedTasks++;
    h = hops[taskId] = {};
  }
  if (first) h[name] ??= wallNow();
  else h[name] = wallNow();
}

function progress(withHops = false): AgentWorkerProgress {
  let pending = 0;
  for (const a of agents) pending += a.pending();
  return { type: 'agents', registered, reregistrations, lastRegisteredAt, acknowledged: { ...acknowledged }, pending, loopP99Ms: loopDelay(), hops: withHops ? hops : null };
}

async function start(m: AgentWorkerStart): Promise<void> {
  if (m.master.startsWith('zk://')) {
    const { servers, path } = parseZkUrl(m.master);
    const session = await ZkSession.connect({ servers, sessionTimeoutMs: 10_000 });
    // A worker whose detector fails follows no leader again: its agents never find a successor. Say so.
    const detector = new LeaderDetector(session, path, (line) => console.error(`[agent worker ${process.pid}] leader detection: ${line}`));
    session.onEnd((why) => why !== 'session closed' && console.error(`[agent worker ${process.pid}] ZooKeeper session ended (${why}): its agents follow no leader`));
    await detector.start();
    detector.onChange(() => agents.forEach((a) => a.leaderChanged()));
    follow = { session, detector };
  }
  const observer = {
    registered: (_: SimAgent, again: boolean) => {
      if (again) return void reregistrations++;
      registered++;
      lastRegisteredAt = wallNow();
    },
    taskReceived: (taskId: string) => hop(taskId, 'runTask'),
    updateSent: (state: TaskState, taskId: string) => {
      if (traced(taskId)) hop(taskId, `${state} sent`, true);
    },
    acknowledged: (state: TaskState, taskId: string) => {
      acknowledged[state] = (acknowledged[state] ?? 0) + 1;
      hop(taskId, `${state} acked`);
    },
  };
  for (let i = m.first; i < m.first + m.count; i++) {
    const agent = new SimAgent({
      master: m.master,
      ...(follow ? { leader: () => follow?.detector.current()?.grpc ?? null } : {}),
      hostname: `agent-${String(i).padStart(5, '0')}`, resources: m.resources, attributes: `rack:r${i % m.racks};index:${i}`,
      finishAfterMs: m.finishAfterMs, ownConnection: m.ownConnections, observer,
    });
    agents.push(agent);
    agent.start();
  }
  reporter = setInterval(() => send(progress()), REPORT_MS);
}

function stop(): void {
  if (reporter) clearInterval(reporter);
  send(progress());
  for (const a of agents) a.stop();
  follow?.detector.stop();
  follow?.session.close();
  setTimeout(() => process.exit(0), 200).unref();
}

process.on('message', (m: ToWorker) => {
  if (m.type === 'start' && 'count' in m) start(m).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  else if (m.type === 'hops') send(progress(true));
  else if (m.type === 'stop') stop();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
