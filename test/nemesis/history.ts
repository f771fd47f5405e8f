// The history of a randomized fault run: one JSON line per thing a process
// saw (a call a client made and its answer, a status update, an offer, a
// fault injected or healed, the masters found leading), each stamped with the
// machine's monotonic clock (shared by every process here, so lines from the
// runner and from the framework processes order) and the name of the process
// that saw it. Every process appends to the same file with single write()s.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Scalar resources by name (cpus, mem, disk) and `ports` as a count of ports. */
export type ResourceTotals = Readonly<Record<string, number>>;

export type CallOp = 'SUBSCRIBE' | 'LAUNCH' | 'KILL' | 'ACKNOWLEDGE' | 'DECLINE' | 'RECONCILE';
export type CallResult = 'ok' | 'error' | 'timeout';

export type HistoryEntry =
  /** A client sent a call; `id` pairs it with its answer. */
  | { readonly type: 'call'; readonly id: string; readonly op: CallOp; readonly frameworkId?: string; readonly taskIds?: readonly string[]; readonly offerIds?: readonly string[]; readonly agentId?: string }
  | { readonly type: 'answer'; readonly id: string; readonly op: CallOp; readonly result: CallResult; readonly error?: string; readonly frameworkId?: string }
  /** A scheduler's (re)subscription took: offers it held before are gone. */
  | { readonly type: 'subscribed'; readonly frameworkId: string; readonly masterId: string }
  | { readonly type: 'disconnected'; readonly frameworkId: string; readonly reason: string }
  | { readonly type: 'update'; readonly frameworkId: string; readonly taskId: string; readonly state: string; readonly agentId: string; readonly reason?: string; readonly source?: string; readonly message?: string; readonly uuid?: string }
  | { readonly type: 'offer'; readonly frameworkId: string; readonly offerId: string; readonly agentId: string; readonly resources: ResourceTotals }
  | { readonly type: 'rescind'; readonly frameworkId: string; readonly offerId: string }
  /** An agent's total resources as the leading master lists them. */
  | { readonly type: 'agent'; readonly agentId: string; readonly total: ResourceTotals }
  /** One poll of every live master at once: those that answered /state as leader. */
  | { readonly type: 'leaders'; readonly leaders: readonly string[] }
  /** A line of a master's own log about its leadership, as the runner read it. */
  | { readonly type: 'master-log'; readonly master: string; readonly event: 'leading' | 'stepped-down' | 'exited' }
  /** The task containers running on the engine at one instant: TaskID → how many. */
  | { readonly type: 'containers'; readonly running: Readonly<Record<string, number>> }
  /** One master process's term as leader, from its own `accepted call` lines (wall-clock ms), recorded at the end of the run. */
  | { readonly type: 'leader-term'; readonly master: string; readonly term: number; readonly firstMs: number; readonly lastMs: number; readonly calls: number }
  /**
   * `tasks`: on an engine stop or a full disk, the tasks whose containers ran there; `ended`: those of them whose
   * containers the fault itself ended (a full disk's crashed task, whose end the agent must write down).
   */
  | { readonly type: 'fault'; readonly phase: 'inject' | 'heal'; readonly kind: string; readonly target: string; readonly description: string; readonly tasks?: readonly string[]; readonly ended?: readonly string[] }
  /** An agent's checkpoints read back (a copy, by the agent's own recovery) after its full disk was freed. */
  | { readonly type: 'checkpoints'; readonly agent: string; readonly tasks: number; readonly updates: number; readonly outOfOrder: readonly string[]; readonly error?: string };

/** A line of the file: an entry, when (monotonic ms) and who saw it. */
export type HistoryEvent = HistoryEntry & { readonly t: number; readonly proc: string };

/** Milliseconds of CLOCK_MONOTONIC, the same in every process of this machine. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export class HistoryWriter {
  private readonly fd: number;

  constructor(readonly path: string, readonly proc: string, private readonly clock: () => number = monotonicMs) {
    this.fd = openSync(path, 'a');
  }

  record(entry: HistoryEntry): void {
    // One write() per line on an O_APPEND file: lines of several processes never interleave.
    writeSync(this.fd, JSON.stringify({ t: this.clock(), proc: this.proc, ...entry }) + '\n');
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The lines of a history file in time order; a torn last line (a process killed mid-write) is skipped. */
export function readHistory(path: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as HistoryEvent);
    } catch {
      // Only ever the last line of a process SIGKILLed while writing it.
    }
  }
  return events.sort((a, b) => a.t - b.t);
}

/** A Resource list (proto JSON shape) summed as totals: scalars by name, ranges as their size. */
export function totalsOf(resources: readonly { name: string; scalar?: { value: number } | null; ranges?: { range: readonly { begin: number | string; end: number | string }[] } | null }[]): ResourceTotals {
  const totals: Record<string, number> = {};
  for (const r of resources) {
    const amount = r.scalar ? r.scalar.value : (r.ranges?.range ?? []).reduce((n, x) => n + Number(x.end) - Number(x.begin) + 1, 0);
    totals[r.name] = (totals[r.name] ?? 0) + amount;
  }
  return totals;
}
