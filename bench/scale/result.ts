// The figures of a harness run, the table printed from them and the JSON
// file they are written to (docs/scale/results.json by default).

export interface Distribution {
  readonly n: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface RegistrationFigures {
  readonly agents: number;
  /** master/slaves_active when the harness stopped waiting. */
  readonly registeredPerMaster: number;
  /** AgentRegistered messages the simulated agents received. */
  readonly registeredPerWorkers: number;
  /** From starting the agents until the master's metrics counted all N (polled every 100 ms); null if never. */
  readonly allRegisteredMs: number | null;
  /** From starting the agents until the last one received AgentRegistered (the workers' clocks). */
  readonly lastRegisteredMs: number | null;
  readonly masterRssMb: number | null;
  readonly masterCpuSeconds: number | null;
  readonly agentWorkersCpuSeconds: number;
}

export interface OfferFigures {
  readonly frameworks: number;
  readonly withOffer: number;
  /** From calling start() (SUBSCRIBE sent) to the first offer. */
  readonly subscribeToOfferMs: Distribution;
  /** From the SUBSCRIBED event to the first offer. */
  readonly subscribedToOfferMs: Distribution;
  /** From the SUBSCRIBED event to the first offer, one per framework in the order SUBSCRIBED arrived (phases.ts, firstOffersInOrder). */
  readonly subscribedToOfferInOrderMs?: readonly number[];
  /** From calling start() to the SUBSCRIBED event (the scheduler's side: connect, SUBSCRIBE, the registry write, SUBSCRIBED back). */
  readonly subscribeToSubscribedMs?: Distribution;
  /** The master's own timers over these subscriptions (metrics.ts): SUBSCRIBE received -> SUBSCRIBED sent, SUBSCRIBED sent -> first OFFERS sent. */
  readonly masterSubscribeToSubscribedMs?: Distribution;
  readonly masterSubscribedToFirstOfferMs?: Distribution;
  readonly allocationRunMs: number | null;
  readonly errors: readonly string[];
}

export interface ThroughputFigures {
  readonly seconds: number;
  readonly launched: number;
  readonly runningAcked: number;
  readonly updatesAcked: number;
  readonly tasksRunningPerSecond: number;
  readonly updatesAckedPerSecond: number;
  readonly tasksRunningAtEnd: number | null;
  readonly tasksFinishedTotal: number | null;
  /** [seconds into the window, TASK_RUNNING acknowledged per second over the last second]. */
  readonly perSecond: readonly (readonly [number, number])[];
  /** Since the agents started: acknowledgements the simulated agents received, by the state acknowledged. */
  readonly agentAcksByState: Readonly<Record<string, number>>;
  /** Since the frameworks started: what the schedulers saw and did. */
  readonly schedulerCounts: Readonly<Record<string, number>>;
  /** Since the frameworks started: from the offer being answered with a launch to the framework's STARTING / RUNNING update (sampled). */
  readonly launchToStartingMs: Distribution;
  readonly launchToRunningMs: Distribution;
  readonly stateMs: Distribution;
  readonly getStateMs: Distribution;
  /** The master's master/event_loop_delay_p99_ms, one value per 1 s window. */
  readonly eventLoopP99Ms: Distribution;
  /** master/framework_event_queue_messages once a second: events the master holds because schedulers read them too slowly. */
  readonly frameworkEventsWaiting?: Distribution;
  /** The workers' own event-loop delay p99 over each 250 ms report: whether the load generators keep up. */
  readonly workerLoopP99Ms?: { readonly agents: Distribution; readonly schedulers: Distribution };
  /** Every tenth task hop by hop (phases.ts, tracedHops), since the frameworks started. */
  readonly hopsMs?: Readonly<Record<string, Distribution>>;
  /** The harness's own one-znode write to the same ZooKeeper, once a second: the floor of a registry write. */
  readonly zkWriteMs?: Distribution;
  /** The master's allocation passes: its allocator/mesos/allocation_run_ms timer at the window's end (the last 1,000 passes; n is every pass timed). */
  readonly allocationRunMs: Distribution;
  readonly masterRssMbMax: number;
  /** ZooKeeper's RSS, once a second: the registry's writes are what it keeps in memory (its last 500 proposals). */
  readonly zkRssMbMax?: number;
  /** The leader's registrar/bytes_written over the window: documents and paths its registry sent to ZooKeeper. */
  readonly registryBytesWritten?: number;
  /** Once a second: [seconds into the window, master/tasks_running, master RSS in MB]; null where a read failed. */
  readonly masterRssByTasks?: readonly (readonly [number, number | null, number | null])[];
  /** Seconds of the window the master's main thread was runnable but waiting for a CPU (the machine's other load). */
  readonly masterRunQueueSeconds: number;
  /** Seconds into the window when the master stopped leading or exited (its log says why); null: it led throughout. The figures after it are void. */
  readonly masterLostAtS?: number | null;
  /** CPU seconds each group of processes took during the window. */
  readonly cpuSeconds: { readonly master: number; readonly agents: number; readonly schedulers: number; readonly zookeeper: number };
}

export interface FailoverFigures {
  /** From the SIGKILL to ZooKeeper naming the standby (a LeaderDetector in the harness). */
  readonly electedMs: number | null;
  /** To the first /metrics/snapshot in which the standby says master/elected 1 (polled every 50 ms; a busy master answers late). */
  readonly firstAnswerAsLeaderMs?: number | null;
  readonly allAgentsBackMs: number | null;
  readonly agentsReregisteredAfterElectionMs: number | null;
  readonly agentsBack: number;
  /** The new leader's registrar/state_fetch_ms: its read of the registry as it took over. */
  readonly registryFetchMs?: number | null;
  /** Per framework: from the SIGKILL to its first offer from the new leader. */
  readonly offersAgainMs: Distribution | null;
}

export interface RunResult {
  /** The command line that produced this run, and when it ended. */
  readonly command: string;
  readonly at: string;
  readonly agents: number;
  readonly frameworks: number;
  readonly agentWorkers: number;
  readonly schedulerProcesses: number;
  readonly registration: RegistrationFigures;
  readonly offers: OfferFigures;
  readonly throughput: ThroughputFigures;
  readonly failover: FailoverFigures | null;
  /** With --profile: the master's top self-time functions. */
  readonly profile?: readonly { readonly fn: string; readonly ms: number; readonly share: number; readonly ofWall: number }[];
}

export interface HarnessResult {
  readonly command: string;
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly node: string };
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly runs: readonly RunResult[];
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
const num = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** The first once-a-second RSS sample taken with at least `tasks` tasks running; null if none was. */
export function rssAtTasks(t: ThroughputFigures, tasks: number): number | null {
  return t.masterRssByTasks?.find(([, running, rss]) => running !== null && running >= tasks && rss !== null)?.[2] ?? null;
}

const dist = (d: Distribution | undefined) => (d ? `${ms(d.p50)} / ${ms(d.p99)}` : '—');

/** One column per N, one row per figure. */
export function table(result: HarnessResult): string {
  const rows: [string, (r: RunResult) => string][] = [
    ['agents registered (master / workers)', (r) => `${r.registration.registeredPerMaster} / ${r.registration.registeredPerWorkers}`],
    ['registration: all N counted by master', (r) => ms(r.registration.allRegisteredMs)],
    ['registration: last AgentRegistered', (r) => ms(r.registration.lastRegisteredMs)],
    ['master RSS after registration (MB)', (r) => num(r.registration.masterRssMb)],
    ['master CPU after registration (s)', (r) => num(r.registration.masterCpuSeconds, 1)],
    ['first offer after SUBSCRIBE p50 / p99', (r) => `${ms(r.offers.subscribeToOfferMs.p50)} / ${ms(r.offers.subscribeToOfferMs.p99)}`],
    ['  SUBSCRIBE -> SUBSCRIBED at scheduler p50 / p99', (r) => dist(r.offers.subscribeToSubscribedMs)],
    ['  master: SUBSCRIBE -> SUBSCRIBED sent p50 / p99', (r) => dist(r.offers.masterSubscribeToSubscribedMs)],
    ['  master: SUBSCRIBED -> first OFFERS sent p50 / p99', (r) => dist(r.offers.masterSubscribedToFirstOfferMs)],
    ['  SUBSCRIBED -> first offer at scheduler p50 / p99', (r) => dist(r.offers.subscribedToOfferMs)],
    ['  the same, in order of SUBSCRIBED (ms)', (r) => r.offers.subscribedToOfferInOrderMs?.map((x) => x.toFixed(0)).join(' ') ?? '—'],
    ['master led the whole window', (r) => (r.throughput.masterLostAtS == null ? 'yes' : `no: lost at ${r.throughput.masterLostAtS.toFixed(0)} s, later figures void`)],
    ['allocation pass p50 / max (ms)', (r) => `${num(r.throughput.allocationRunMs.p50, 1)} / ${num(r.throughput.allocationRunMs.max, 1)}`],
    ['tasks RUNNING+acked per second', (r) => num(r.throughput.tasksRunningPerSecond)],
    ['status updates acked per second', (r) => num(r.throughput.updatesAckedPerSecond)],
    ['launch -> STARTING at scheduler p50 / p99', (r) => `${ms(r.throughput.launchToStartingMs.p50)} / ${ms(r.throughput.launchToStartingMs.p99)}`],
    ['launch -> RUNNING at scheduler p50 / p99', (r) => `${ms(r.throughput.launchToRunningMs.p50)} / ${ms(r.throughput.launchToRunningMs.p99)}`],
    ['tasks running at end of window', (r) => num(r.throughput.tasksRunningAtEnd)],
    ['/master/state p50 / p99', (r) => `${ms(r.throughput.stateMs.p50)} / ${ms(r.throughput.stateMs.p99)}`],
    ['GET_STATE p50 / p99', (r) => `${ms(r.throughput.getStateMs.p50)} / ${ms(r.throughput.getStateMs.p99)}`],
    ['event loop delay p99: median / worst 1 s', (r) => `${ms(r.throughput.eventLoopP99Ms.p50)} / ${ms(r.throughput.eventLoopP99Ms.max)}`],
    ['events waiting in the master (1 s samples) p50 / max', (r) => (r.throughput.frameworkEventsWaiting ? `${num(r.throughput.frameworkEventsWaiting.p50)} / ${num(r.throughput.frameworkEventsWaiting.max)}` : '—')],
    ['worker loop delay p99 (250 ms): agents / scheds p50', (r) => (r.throughput.workerLoopP99Ms ? `${ms(r.throughput.workerLoopP99Ms.agents.p50)} / ${ms(r.throughput.workerLoopP99Ms.schedulers.p50)}` : '—')],
    ['ZooKeeper write (probe) p50 / p99', (r) => (r.throughput.zkWriteMs ? `${ms(r.throughput.zkWriteMs.p50)} / ${ms(r.throughput.zkWriteMs.p99)}` : '—')],
    ['master RSS max in window (MB)', (r) => num(r.throughput.masterRssMbMax)],
    ['ZooKeeper RSS max in window (MB)', (r) => (r.throughput.zkRssMbMax !== undefined ? num(r.throughput.zkRssMbMax) : '—')],
    ['registry bytes to ZooKeeper: MB/s / KB per task RUNNING', (r) => {
      const b = r.throughput.registryBytesWritten;
      if (b === undefined) return '—';
      const perTask = r.throughput.runningAcked > 0 ? (b / 1024 / r.throughput.runningAcked).toFixed(1) : '—';
      return `${(b / 1024 / 1024 / r.throughput.seconds).toFixed(1)} / ${perTask}`;
    }],
    ['master RSS at 50,000 tasks running (MB)', (r) => num(rssAtTasks(r.throughput, 50_000))],
    ['master waiting for a CPU (% of window)', (r) => `${((100 * r.throughput.masterRunQueueSeconds) / r.throughput.seconds).toFixed(0)}%`],
    ['CPU cores: master / agents / scheds / zk', (r) => {
      const c = r.throughput.cpuSeconds;
      const s = r.throughput.seconds;
      return [c.master, c.agents, c.schedulers, c.zookeeper].map((x) => (x / s).toFixed(2)).join('/');
    }],
    ['CPU s per 1,000 tasks RUNNING: master / agents / scheds / zk', (r) => {
      const c = r.throughput.cpuSeconds;
      const k = r.throughput.runningAcked / 1000;
      return k > 0 ? [c.master, c.agents, c.schedulers, c.zookeeper].map((x) => (x / k).toFixed(2)).join('/') : '—';
    }],
  ];
  const hopNames = [...new Set(result.runs.flatMap((r) => Object.keys(r.throughput.hopsMs ?? {})))];
  for (const name of hopNames) {
    rows.push([`stage: ${name} p50 / p99`, (r) => {
      const d = r.throughput.hopsMs?.[name];
      return d ? `${ms(d.p50)} / ${ms(d.p99)}` : '—';
    }]);
  }
  if (result.runs.some((r) => r.failover)) {
    rows.push(
      ['failover: new leader elected (ZooKeeper)', (r) => ms(r.failover?.electedMs)],
      ['failover: it answers as leader', (r) => ms(r.failover?.firstAnswerAsLeaderMs)],
      ['failover: its registry read (state_fetch_ms)', (r) => ms(r.failover?.registryFetchMs)],
      ['failover: all agents back (after kill)', (r) => ms(r.failover?.allAgentsBackMs)],
      ['failover: all agents back after election', (r) => ms(r.failover?.agentsReregisteredAfterElectionMs)],
      ['failover: offers again p50 / max', (r) => (r.failover?.offersAgainMs ? `${ms(r.failover.offersAgainMs.p50)} / ${ms(r.failover.offersAgainMs.max)}` : '—')],
    );
  }
  const width = Math.max(50, ...rows.map(([label]) => label.length + 2));
  const head = `${'N agents'.padEnd(width)}${result.runs.map((r) => `N=${r.agents}, M=${r.frameworks}`.padStart(26)).join('')}`;
  return [head, ...rows.map(([label, f]) => `${label.padEnd(width)}${result.runs.map((r) => f(r).padStart(26)).join('')}`)].join('\n');
}
